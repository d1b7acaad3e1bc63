# run.gp - one run of one mode: rss, heap_total and heap_used per iteration
# (and the lab's own columns), the run's walls as dashed lines, and a
# cross on its last row. rss is drawn first and solid, every other series
# over it dashed, so that lines that coincide (lab 2's rss, heap_total and
# heap_used) all show their colours.
#
# plot.sh runs it after a file of its own that sets, besides the chart's
# texts (ttl, caption, xlab, tsv, out):
#   mem_cols, y2_cols   the lab's columns worth drawing, as words: memory
#                       on the left axis, counts on the right (y2_label)
#   xmax xstep ymin ymax y2min y2max ptn   the axes, and points every
#                       ptn rows
#   lm rm tm bm         the plot box, in screen fractions
#   xlab_y ylab_x y2lab_x   where the axes' names go
#   ex ey               the last row: where the cross goes
#   nw, wy wls          the walls: y and line style (10 cap, 12 budget)
#   nl, lt lx ly lpt lc the labels, placed by plots/layout.awk: text,
#                       anchor (screen), font size, colour name
#   kn, kt kls kkind ksx0 ksx1 ktx ky   the key, below the plot, also
#                       placed by layout.awk: each entry's text, line
#                       style, kind (line, linespoints or point), sample
#                       and text positions (screen)
load 'plots/style.gp'

# A _kib column on the second axis is drawn in MiB, like every memory axis.
is_kib(c) = strlen(c) > 4 && c[strlen(c)-3:] eq "_kib"
y2_value(c) = is_kib(c) ? column(c) / 1024. : column(c)
color_of(name) = name eq "vermilion" ? okabe_vermilion : okabe_black

set lmargin at screen lm
set rmargin at screen rm
set tmargin at screen tm
set bmargin at screen bm
set xrange [0:xmax]
set yrange [ymin:ymax]
set offsets 0, 0, 0, 0
# Iterations are whole: whole-number ticks only.
set xtics 0, xstep format "%.0f"
# The axes' names and the key are labels placed here: gnuplot leaves out
# a y label it would put past the page's edge, and lays out its own key
# differently in each format.
unset xlabel
unset ylabel
unset key

y2_plot = ""
if (strlen(y2_cols) > 0) {
    set y2tics nomirror
    set y2range [y2min:y2max]
    y2_plot = ', for [i=1:words(y2_cols)] tsv using "iter":(y2_value(word(y2_cols, i))) axes x1y2 with lines ls (24 + i) notitle'
}

do for [i=1:nw] {
    set arrow i from graph 0, first wy[i] to graph 1, first wy[i] nohead ls wls[i] front
}

do for [fmt in fmts] {
    eval terminal_for(fmt)
    set label 101 ttl at screen 0.5, screen 0.949 center font font_of(fmt, 34)
    set label 100 caption at screen 0.5, screen 0.035 center font font_of(fmt, 28)
    set label 102 xlab at screen (lm + rm) / 2, screen xlab_y center
    set label 103 "memory (MiB)" at screen ylab_x, screen (tm + bm) / 2 center rotate by 90
    if (strlen(y2_cols) > 0) {
        set label 104 y2_label at screen y2lab_x, screen (tm + bm) / 2 center rotate by 90
    }
    do for [i=1:nl] {
        set label (i + 1) lt[i] at screen lx[i], screen ly[i] left font font_of(fmt, lpt[i]) tc rgb color_of(lc[i]) front
    }
    set label 1 "" at first ex, first ey point ls 11 front
    do for [i=1:kn] {
        if (kkind[i] ne "point") {
            set arrow (200 + i) from screen ksx0[i], screen ky[i] to screen ksx1[i], screen ky[i] nohead ls kls[i]
        }
        if (kkind[i] ne "line") {
            set label (200 + i) "" at screen (ksx0[i] + ksx1[i]) / 2, screen ky[i] point ls kls[i]
        }
        set label (300 + i) kt[i] at screen ktx[i], screen ky[i] left
    }
    set output out.suffix_for(fmt)
    plot tsv using "iter":(column("rss_kib")/1024.) with linespoints ls 1 \
             pointinterval ptn notitle, \
         tsv using "iter":(column("heap_total_kib")/1024.) with lines ls 21 notitle, \
         tsv using "iter":(column("heap_used_kib")/1024.) with lines ls 22 notitle, \
         for [i=1:words(mem_cols)] tsv \
             using "iter":(column(word(mem_cols, i))/1024.) with lines \
             ls (22 + i) notitle @y2_plot
    unset output
}
