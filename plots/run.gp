# run.gp - one run of one mode: rss, heap_total and heap_used per iteration,
# the cap as a dashed line, and a marker where and how the run ended.
#
# plot.sh runs it after a file of its own that sets tsv, out (the path
# without extension), ttl, caption, ymax, mem_cols (the lab's own _kib
# columns, drawn as memory too) and y2_cols (counts, drawn on a second
# axis), and draws the cap line and the verdict marker (labels and arrows
# numbered below 100).
load 'plots/style.gp'

# A _kib column on the second axis is drawn in MiB, like every memory axis.
is_kib(c) = strlen(c) > 4 && c[strlen(c)-3:] eq "_kib"
y2_value(c) = is_kib(c) ? column(c) / 1024. : column(c)
y2_title(c) = (is_kib(c) ? c[1:strlen(c)-4]." (MiB)" : c)." (right)"
mem_title(c) = is_kib(c) ? c[1:strlen(c)-4] : c   # external_kib: "external"

# The largest value on the second axis, taken before any y range is set
# (stats skips points outside a fixed range).
y2max = 0
do for [i=1:words(y2_cols)] {
    stats tsv using (y2_value(word(y2_cols, i))) nooutput
    y2max = STATS_max > y2max ? STATS_max : y2max
}

set yrange [0:ymax]
# A run killed mid-iteration is marked past its last row: widen x to it.
if (exists("xend")) { set xrange [0:xend] }

# The second axis only when there is something for it: gnuplot rejects a
# y2 axis with no data even when the loop that feeds it is empty.
y2_plot = ""
if (strlen(y2_cols) > 0) {
    set y2tics nomirror
    set y2label y2_label
    y2_plot = ', for [i=1:words(y2_cols)] tsv using "iter":(y2_value(word(y2_cols, i))) axes x1y2 with lines ls (8 - i) dt (3, 3) title y2_title(word(y2_cols, i))'
    # Two axes and a key beside them leave the plot narrow: give the data
    # the top third empty and put the key there, inside, in two rows.
    set key inside top center horizontal Left reverse maxrows 2 nobox
    set yrange [0:ymax * 1.5]
    set y2range [0:(y2max > 0 ? y2max * 1.5 : 1)]
}

do for [fmt in fmts] {
    eval terminal_for(fmt)
    set title ttl font font_of(fmt, 34)
    set label 100 caption at screen 0.5, screen 0.035 center font font_of(fmt, 28)
    set output out.suffix_for(fmt)
    plot tsv using "iter":(column("rss_kib")/1024.) with linespoints ls 1 \
             title "rss", \
         tsv using "iter":(column("heap_total_kib")/1024.) with lines ls 2 \
             title "heap_total", \
         tsv using "iter":(column("heap_used_kib")/1024.) with lines ls 3 \
             dt (6, 4) title "heap_used", \
         for [i=1:words(mem_cols)] tsv \
             using "iter":(column(word(mem_cols, i))/1024.) with lines \
             ls (3 + i) title mem_title(word(mem_cols, i)), \
         (exists("capnote") ? NaN : 1/0) with lines ls 10 \
             title (exists("capnote") ? capnote : "") @y2_plot
    unset output
}
