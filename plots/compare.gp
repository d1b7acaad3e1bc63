# compare.gp - every mode of one lab side by side: one panel per mode, the
# same axes in each, so that no mode hides under another and heights
# compare across panels. Each panel draws its mode's rss (and the lab's
# comparison columns, dashed), its own walls, and a cross on its last row.
#
# plot.sh runs it after a file of its own that sets, besides the chart's
# texts (ttl, caption, xlab, ylab, out) and term ("files" for the formats
# in fmts, "text" for the terminal):
#   n prows pcols       how many panels, in how many rows and columns
#   files names vlabels arrays, one entry per panel: TSV, mode, verdict
#   ttext text_rows     arrays: the terminal's panel titles (mode, verdict,
#                       walls), and how many rows a panel takes there
#   ex ey               arrays: each panel's last row, where its cross goes
#   bl bb br bt         arrays: each plot box, in screen fractions
#   showx showy         arrays: 1 where a panel shows x or y tick labels
#   tx ty               arrays: where each panel's title (its mode) goes
#   cmp_cols cmp_ls     the comparison columns, as words (may be empty),
#                       and the line style of each (an array)
#   xmax xstep ymax ptn the shared axes, and points every ptn rows
#   xlab_x xlab_y       the x axis's name, below every panel
#   ylab_x ylab_y       the y axis's name, left of the first column
#   nw, wy wls wp       the walls: y, line style (10 cap, 12 budget), panel
#   nl, lt lx ly lpt lc lp   the labels, placed by plots/layout.awk
#   kn, kt kls kkind ksx0 ksx1 ktx ky   the key, below it all (as run.gp)
load 'plots/style.gp'

color_of(name) = name eq "vermilion" ? okabe_vermilion : okabe_black
cmp_title(c) = c[1:strlen(c)-4]   # heap_used_kib: "heap_used"
unset key

set xrange [0:xmax]
set yrange [ymin:ymax]
set offsets 0, 0, 0, 0
set xtics 0, xstep
# The axes' names are labels placed here: gnuplot leaves out a y label
# it would put past the page's edge.
unset xlabel
unset ylabel
set grid ytics

# panel(p) - sets up panel p: its box, its walls, its tick labels.
panel_setup = \
    'unset arrow; ' . \
    'do for [i=1:nw] { if (wp[i] == p) { set arrow i from graph 0, first wy[i] to graph 1, first wy[i] nohead ls wls[i] front } }; '

if (term eq "text") {
    # The terminal: the same panels, laid out by gnuplot, each titled with
    # its mode, how it ended, and its walls (ttext: lines apart by
    # newlines). rss is '*' and drawn last, over the comparison columns
    # ('$'); X is the last row; a wall is a line of '#'. The page's title
    # says so, and carries the y axis's unit: dumb would write a y axis's
    # name over its tick labels.
    set terminal dumb size 100, (prows * text_rows + 3) noenhanced
    set margins -1, -1, -1, -1
    unset grid
    unset key
    unset ylabel
    set format x "%.0f"
    # A row of text is a tenth of a panel: a line at 0 needs a row of its
    # own above the axis.
    set yrange [-0.1 * ymax:ymax]
    set multiplot layout prows, pcols title ttl."\n".ylab.": * rss".(strlen(cmp_cols) > 0 ? ", $ ".cmp_title(word(cmp_cols, 1)) : "").", X last row, # wall"
    do for [p=1:n] {
        # Walls are plotted like the data (as arrows, dumb would round
        # them to another row), first: the data go over them.
        unset arrow
        set title ttext[p]
        unset label
        set label 1 "X" at first ex[p], first ey[p] center front
        plot for [i=1:nw] (wp[i] == p ? wy[i] : NaN) with lines lt 2 notitle, \
             for [i=1:words(cmp_cols)] files[p] using "iter":(column(word(cmp_cols, i))/1024.) \
                 with lines lt 3 notitle, \
             files[p] using "iter":(column("rss_kib")/1024.) with lines lt 1 notitle
    }
    unset multiplot
} else {
    do for [fmt in fmts] {
        eval terminal_for(fmt)
        set output out.suffix_for(fmt)
        set multiplot
        do for [p=1:n] {
            set lmargin at screen bl[p]
            set rmargin at screen br[p]
            set bmargin at screen bb[p]
            set tmargin at screen bt[p]
            tics_font = font_of(fmt, 26)   # set tics font takes no call
            set tics font tics_font
            set format x (showx[p] ? "%.0f" : "")
            set format y (showy[p] ? "% h" : "")
            eval panel_setup
            unset label
            if (p == 1) {
                # A slide's header (plots/header.gp, through --extra).
                if (exists("page_header")) { eval page_header }
                set label 101 ttl at screen 0.5, screen 0.949 center font font_of(fmt, 34)
                set label 100 caption at screen 0.5, screen 0.035 center font font_of(fmt, 28)
                set label 102 xlab at screen xlab_x, screen xlab_y center
                set label 104 ylab at screen ylab_x, screen ylab_y center rotate by 90
                do for [i=1:kn] {
                    if (kkind[i] ne "point") {
                        set arrow (200 + i) from screen ksx0[i], screen ky[i] to screen ksx1[i], screen ky[i] nohead ls kls[i]
                    }
                    if (kkind[i] ne "line") {
                        set label (200 + i) "" at screen (ksx0[i] + ksx1[i]) / 2, screen ky[i] point ls kls[i]
                    }
                    set label (300 + i) kt[i] at screen ktx[i], screen ky[i] left
                }
            }
            set label 103 names[p] at screen tx[p], screen ty[p] center font font_of(fmt, 30)
            do for [i=1:nl] {
                if (lp[i] == p) {
                    set label (i + 1) lt[i] at screen lx[i], screen ly[i] left font font_of(fmt, lpt[i]) tc rgb color_of(lc[i]) front
                }
            }
            set label 1 "" at first ex[p], first ey[p] point ls 11 front
            plot files[p] using "iter":(column("rss_kib")/1024.) with linespoints ls 1 \
                     pointinterval ptn notitle, \
                 for [i=1:words(cmp_cols)] files[p] \
                     using "iter":(column(word(cmp_cols, i))/1024.) with lines ls cmp_ls[i] \
                     notitle
        }
        unset multiplot
        unset output
    }
}
