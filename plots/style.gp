# style.gp - the one look every chart shares.
#
# Okabe-Ito colours (safe for every common colour-vision deficiency), thick
# lines, and fonts sized for the back row of a classroom. Every memory axis
# is in MiB and every x axis in iterations.

okabe_black     = "#000000"
okabe_orange    = "#E69F00"
okabe_skyblue   = "#56B4E9"
okabe_green     = "#009E73"
okabe_yellow    = "#F0E442"
okabe_blue      = "#0072B2"
okabe_vermilion = "#D55E00"
okabe_purple    = "#CC79A7"

# Line styles 1-7 go to data series; 10 is the cap; 11 the verdict marker.
set style line 1 lc rgb okabe_blue      lw 5 pt 7 ps 1.2
set style line 2 lc rgb okabe_orange    lw 5 pt 5 ps 1.2
set style line 3 lc rgb okabe_green     lw 5 pt 9 ps 1.4
set style line 4 lc rgb okabe_purple    lw 5 pt 11 ps 1.4
set style line 5 lc rgb okabe_skyblue   lw 5 pt 13 ps 1.4
set style line 6 lc rgb okabe_vermilion lw 5 pt 3 ps 1.4
set style line 7 lc rgb okabe_black     lw 5 pt 1 ps 1.4
set style line 10 lc rgb okabe_vermilion lw 4 dt (12, 8)
set style line 11 lc rgb okabe_black    lw 4 pt 2 ps 4

set datafile separator "\t"
set datafile commentschars "#"
set grid ytics lc rgb "#bbbbbb" lw 1 dt 3
set border 3 lw 2
set tics nomirror out scale 0.8
# The key sits right of the plot, so it never hides the data.
set key outside right top vertical Left reverse samplen 2 spacing 1.2 nobox
set xlabel "iteration"
set ylabel "memory (MiB)"
set yrange [0:*]
set xrange [0:*]
set autoscale xfixmax
set offsets 0, graph 0.04, 0, 0
set lmargin 12
set bmargin 6.5

# Terminals: a 1920x1080 PNG and an SVG of the same. The font is 30 pt on
# a 1920-wide canvas: 20 pt once shown on a 1280x720 slide.
png_terminal = 'set terminal pngcairo size 1920,1080 noenhanced font "DejaVu Sans,30" linewidth 1 background rgb "white"'
svg_terminal = 'set terminal svg size 1920,1080 noenhanced font "DejaVu Sans,30" linewidth 1 background rgb "white"'
text_terminal = 'set terminal dumb size 100,32 noenhanced'
