# style.gp - the one look every chart shares.
#
# Okabe-Ito colours (safe for every common colour-vision deficiency), thick
# lines, and fonts sized for the back row of a classroom. Every memory axis
# is in MiB and every x axis in iterations (or the lab's own rows).

okabe_black     = "#000000"
okabe_orange    = "#E69F00"
okabe_skyblue   = "#56B4E9"
okabe_green     = "#009E73"
okabe_yellow    = "#F0E442"
okabe_blue      = "#0072B2"
okabe_vermilion = "#D55E00"
okabe_purple    = "#CC79A7"

# Line styles 1-7 go to data series; 10 is the cap, 12 the heap budget
# (both walls: vermilion, dashed differently); 11 the end-of-run marker.
# The run charts draw rss solid (1) and every other series over it dashed
# (21-26), so that series that coincide still show every colour:
# heap_total 21, heap_used 22, the lab's own memory columns 23 and 24, its
# counts on the right axis 25 and 26 (dotted).
# They are set again for each format (terminal_for): point sizes scale by
# pss, since the SVG terminal draws points some 5.5 times as large as the
# PNG one and has no pointscale of its own.
line_styles = \
    "set style line 1 lc rgb okabe_blue      lw 5 pt 7 ps 1.2 * pss;" . \
    "set style line 2 lc rgb okabe_orange    lw 5 pt 5 ps 1.2 * pss;" . \
    "set style line 3 lc rgb okabe_green     lw 5 pt 9 ps 1.4 * pss;" . \
    "set style line 4 lc rgb okabe_purple    lw 5 pt 11 ps 1.4 * pss;" . \
    "set style line 5 lc rgb okabe_skyblue   lw 5 pt 13 ps 1.4 * pss;" . \
    "set style line 6 lc rgb okabe_vermilion lw 5 pt 3 ps 1.4 * pss;" . \
    "set style line 7 lc rgb okabe_black     lw 5 pt 1 ps 1.4 * pss;" . \
    "set style line 10 lc rgb okabe_vermilion lw 4 dt (12, 8);" . \
    "set style line 12 lc rgb okabe_vermilion lw 4 dt (24, 8, 4, 8);" . \
    "set style line 11 lc rgb okabe_black    lw 4 pt 2 ps 4 * pss;" . \
    "set style line 21 lc rgb okabe_orange   lw 5 dt (14, 6);" . \
    "set style line 22 lc rgb okabe_green    lw 5 dt (6, 4);" . \
    "set style line 23 lc rgb okabe_purple   lw 5 dt (10, 5);" . \
    "set style line 24 lc rgb okabe_skyblue  lw 5 dt (10, 5);" . \
    "set style line 25 lc rgb okabe_black    lw 5 dt (3, 3);" . \
    "set style line 26 lc rgb okabe_skyblue  lw 5 dt (3, 3)"
pss = 1
eval line_styles

set encoding utf8
set datafile separator "\t"
set datafile commentschars "#"
set grid ytics lc rgb "#bbbbbb" lw 1 dt 3
set border 3 lw 2
set tics nomirror out scale 0.8
# The key sits right of the plot, so it never hides the data.
set key outside right top vertical Left reverse samplen 2 spacing 1.2 nobox
# A lab whose rows are not iterations names its own (xlab, from its
# --describe): lab 5 takes a row per MiB of the file.
if (!exists("xlab")) xlab = "iteration"
set xlabel xlab
set ylabel "memory (MiB)"
set yrange [0:*]
set xrange [0:*]
set autoscale xfixmax
set offsets 0, graph 0.04, 0, 0
set lmargin 12
set bmargin 6.5

# Terminals: a 1920x1080 PNG and an SVG of the same. The body font is
# 30 pt, which pngcairo lays out at 96 dpi: 40 px tall on the 1920-wide
# canvas, 26.7 px once the PNG is shown 1280 wide (a 1280x720 slide).
png_terminal = 'set terminal pngcairo size 1920,1080 noenhanced font "DejaVu Sans,30" linewidth 1 background rgb "white"'
# The SVG terminal takes a font's size in pixels, not points: 40 px is the
# PNG's 30 pt, so that both show the same chart (and a test that measures
# the SVG measures what the PNG shows).
svg_terminal = 'set terminal svg size 1920,1080 noenhanced font "DejaVu Sans,40" linewidth 1 background rgb "white"'
text_terminal = 'set terminal dumb size 100,32 noenhanced'

# The same chart in two more sizes, scaled as a whole so it looks the same:
#
# "pdf": one slide page for `make slides`. The page is 17.778 x 10 in, that
# is 1280 x 720 pt (72 pt per inch): a 1280x720 page measured in points.
# pdfcairo multiplies every font by its fontscale (0.5 unless told) and,
# like pngcairo, lays text out at 96 dpi; with fontscale 0.75 a font named
# N pt is drawn at N x 0.75 x 96/72 = N pt exactly (slides.bats measures
# it with pdftotext -bbox). To look like the PNG shown 1280 wide, every
# font is the PNG's times 1280/1920 x 4/3 = 8/9: the 30 pt body becomes
# 26.7 pt, the 34 pt title 30.2 pt, and the smallest text on a slide, the
# 28 pt caption, 24.9 pt: above the 18 pt a classroom's back row needs.
# (On PowerPoint's own 16:9 page, 960 x 540 pt, 24.9 pt would be 18.7 pt.)
# Line widths and point sizes were matched by eye against the PNG
# (pdftoppm -scale-to-x 1920 on a page, side by side).
#
# "small": the 800x450 PNG README opens with: fonts times 800/1920.
pdf_terminal = 'set terminal pdfcairo size 17.7778in,10in noenhanced font "DejaVu Sans,26.667" fontscale 0.75 linewidth 1.3333 pointscale 0.8 background rgb "white"'
small_terminal = 'set terminal pngcairo size 800,450 noenhanced font "DejaVu Sans,12.5" linewidth 0.4167 pointscale 0.6 background rgb "white"'

# For a format fmt ("png", "svg", "pdf" or "small"): the command that sets
# its terminal, how much to scale the fonts a script names itself (the
# title, the caption), and the end of the output file's name.
terminal_for(fmt) = (fmt eq "png" ? png_terminal : fmt eq "svg" ? svg_terminal : fmt eq "pdf" ? pdf_terminal : small_terminal) . sprintf("; pss = %g; ", fmt eq "svg" ? 11.0 / 60 : 1) . line_styles
font_scale(fmt) = fmt eq "pdf" ? 8.0 / 9 : fmt eq "small" ? 800.0 / 1920 : fmt eq "svg" ? 4.0 / 3 : 1
font_of(fmt, pt) = sprintf(",%.1f", pt * font_scale(fmt))
suffix_for(fmt) = fmt eq "small" ? "-small.png" : ".".fmt
# Which formats a script writes, unless plot.sh names others.
if (!exists("fmts")) fmts = "png svg"
