# run.gp - one run of one mode: rss, heap_total and heap_used per iteration,
# the cap as a dashed line, and a marker where and how the run ended.
#
# plot.sh runs it after a file of its own that sets tsv, out (the path
# without extension), ttl, caption and ymax, and draws the cap line and the
# verdict marker (labels and arrows numbered below 100).
load 'plots/style.gp'

set title ttl font ",34"
set label 100 caption at screen 0.5, screen 0.035 center font ",28"
set yrange [0:ymax]

do for [fmt in "png svg"] {
    if (fmt eq "png") { eval png_terminal } else { eval svg_terminal }
    set output out.".".fmt
    plot tsv using "iter":(column("rss_kib")/1024.) with linespoints ls 1 \
             title "rss", \
         tsv using "iter":(column("heap_total_kib")/1024.) with lines ls 2 \
             title "heap_total", \
         tsv using "iter":(column("heap_used_kib")/1024.) with lines ls 3 \
             dt (6, 4) title "heap_used", \
         (exists("capnote") ? NaN : 1/0) with lines ls 10 \
             title (exists("capnote") ? capnote : "")
    unset output
}
