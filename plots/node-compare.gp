# node-compare.gp - a lab beside its Node.js twin: a panel per mode, the C
# run solid and the twin's dashed, in the same colour, on the same axes;
# with heap_row, a second row of panels for the heap (heap_used beside
# V8's heapUsed, the bytes C took from mmap beside Node's external).
#
# node-compare.sh runs it after a file of its own that sets, besides the
# chart's texts (ttl, caption, xlab, out) and fmts:
#   n np heap_row        panels, pairs (a panel each per row), and whether
#                        panels np+1..n are the heap row
#   cmshow nmshow        whether C's mmap'd line and Node's external are
#                        drawn (0: the column is 0 on every row of every run)
#   bl bb br bt ymx      arrays: each plot box (screen fractions), its y top
#   ystep                array: each panel's y tick step
#   showx showy tx ty    arrays: tick labels shown, where the title goes
#   ptitle               array: each panel's title (its mode, or pair)
#   pends ey end_pt      arrays: how the panel's runs ended ("" for none),
#                        under its title at ey, in end_pt type
#   ctsv ntsv cmcol      arrays: the C run's TSV and the twin's ("" for
#                        none), and C's mmap'd column (mmap_kib, or lab
#                        3's external_kib)
#   side_col cside nside another process's memory beside rss (lab 6's
#                        server_rss_kib), and whether each run has it
#   cex cey nex ney      arrays: each run's last row, where its cross goes
#   xmax xstep ptn       the shared x axis, points every ptn rows
#   nw, wy wp wls        the walls: y, panel, line style (10 cap, 12 budget)
#   nl, lt lx ly lp lwall  the labels, placed by plots/layout.awk; lwall
#                        is 1 for a wall's (vermilion), 0 for a run's end
#   kn, kt kls kkind ksx0 ksx1 ktx ky   the key (as compare.gp)
#   panel_pt, xlab_x xlab_y ylab_x, nylab ylabt ylaby   texts' places
load 'plots/style.gp'

# C's lines are wide and solid, the twin's narrow and dashed, in the same
# colour, over a white line of their own width: where the two runs agree
# (lab 3's external) the twin's dashes show inside C's line instead of
# vanishing into it. C's mmap line is wider still, under its heap_used:
# in lab 2 the two are the same bytes, and both show.
twin_styles = \
    "set style line 41 lc rgb okabe_blue   lw 9 pt 7 ps 1.3 * pss;" . \
    "set style line 42 lc rgb okabe_orange lw 15;" . \
    "set style line 43 lc rgb okabe_green  lw 8;" . \
    "set style line 44 lc rgb okabe_purple lw 9;" . \
    "set style line 31 lc rgb okabe_blue   lw 3.5 dt (10, 6) pt 6 ps 1.5 * pss;" . \
    "set style line 32 lc rgb okabe_orange lw 3.5 dt (10, 6);" . \
    "set style line 33 lc rgb okabe_green  lw 3.5 dt (10, 6);" . \
    "set style line 34 lc rgb okabe_purple lw 3.5 dt (10, 6);" . \
    "set style line 49 lc rgb '#ffffff'    lw 3.5"
eval twin_styles

unset key
set xrange [0:xmax]
set offsets 0, 0, 0, 0
set xtics 0, xstep
unset xlabel
unset ylabel
set grid ytics

has(f) = strlen(f) > 0

do for [fmt in fmts] {
    eval terminal_for(fmt)
    eval twin_styles
    set output out.suffix_for(fmt)
    set multiplot
    do for [p=1:n] {
        set lmargin at screen bl[p]
        set rmargin at screen br[p]
        set bmargin at screen bb[p]
        set tmargin at screen bt[p]
        set yrange [-0.025 * ymx[p]:ymx[p]]
        set ytics 0, ystep[p]
        tics_font = font_of(fmt, 26)
        set tics font tics_font
        set format x (showx[p] ? "%.0f" : "")
        set format y (showy[p] ? "% h" : "")
        unset arrow
        do for [i=1:nw] {
            if (wp[i] == p) {
                set arrow i from graph 0, first wy[i] to graph 1, first wy[i] nohead ls wls[i] front
            }
        }
        unset label
        if (p == 1) {
            # A slide's header (plots/header.gp, through --extra).
            if (exists("page_header")) { eval page_header }
            set label 101 ttl at screen 0.5, screen 0.949 center font font_of(fmt, 34)
            set label 100 caption at screen 0.5, screen 0.035 center font font_of(fmt, 28)
            set label 102 xlab at screen xlab_x, screen xlab_y center
            do for [i=1:nylab] {
                set label (104 + i) ylabt[i] at screen ylab_x, screen ylaby[i] center rotate by 90
            }
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
        set label 103 ptitle[p] at screen tx[p], screen ty[p] center font font_of(fmt, 28)
        if (strlen(pends[p]) > 0) {
            set label 104 pends[p] at screen tx[p], screen ey[p] center font font_of(fmt, end_pt)
        }
        do for [i=1:nl] {
            if (lp[i] == p) {
                set label (i + 1) lt[i] at screen lx[i], screen ly[i] left font font_of(fmt, panel_pt) tc rgb (lwall[i] ? okabe_vermilion : okabe_black) front
            }
        }
        # Only the runs there are: a mode one side lacks has no TSV.
        c_rss = 'ctsv[p] using "iter":(column("rss_kib")/1024.) with linespoints ls 41 pointinterval ptn notitle'
        n_rss = 'ntsv[p] using "iter":(column("rss_kib")/1024.) with lines ls 49 notitle, ' . \
                'ntsv[p] using "iter":(column("rss_kib")/1024.) with linespoints ls 31 pointinterval ptn notitle'
        # Beside rss, where a run has it: the other process's memory.
        if (cside[p]) { c_rss = c_rss . ', ctsv[p] using "iter":(column(side_col)/1024.) with lines ls 44 notitle' }
        if (nside[p]) { n_rss = n_rss . ', ntsv[p] using "iter":(column(side_col)/1024.) with lines ls 49 notitle, ' . \
                                        'ntsv[p] using "iter":(column(side_col)/1024.) with lines ls 34 notitle' }
        c_heap = (cmshow ? 'ctsv[p] using "iter":(column(cmcol[p])/1024.) with lines ls 42 notitle, ' : '') . \
                 'ctsv[p] using "iter":(column("heap_used_kib")/1024.) with lines ls 43 notitle'
        n_heap = (nmshow ? 'ntsv[p] using "iter":(column("external_kib")/1024.) with lines ls 49 notitle, ' . \
                           'ntsv[p] using "iter":(column("external_kib")/1024.) with lines ls 32 notitle, ' : '') . \
                 'ntsv[p] using "iter":(column("heap_used_kib")/1024.) with lines ls 49 notitle, ' . \
                 'ntsv[p] using "iter":(column("heap_used_kib")/1024.) with lines ls 33 notitle'
        if (!heap_row || p <= np) {
            # The rss row: a cross on each run's last row.
            if (has(ctsv[p])) { set label 390 "" at first cex[p], first cey[p] point ls 11 front }
            if (has(ntsv[p])) { set label 391 "" at first nex[p], first ney[p] point ls 11 front }
            eval "plot " . (has(ctsv[p]) ? c_rss : "") . (has(ctsv[p]) && has(ntsv[p]) ? ", " : "") . (has(ntsv[p]) ? n_rss : "")
        } else {
            eval "plot " . (has(ctsv[p]) ? c_heap : "") . (has(ctsv[p]) && has(ntsv[p]) ? ", " : "") . (has(ntsv[p]) ? n_heap : "")
        }
    }
    unset multiplot
    unset output
}
