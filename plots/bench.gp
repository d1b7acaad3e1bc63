# bench.gp - make bench's chart: lab 5's copy of 1 GiB against cp (wall
# time ratio, peak rss) and lab 4's consumer throughput with backpressure.
#
# harness/bench.sh runs it with copy_tsv, queue_tsv (its medians) and out
# (the path without extension) set.
load 'plots/style.gp'

set style fill solid 0.9 border -1
set boxwidth 0.7
unset key
set xtics nomirror rotate by 30 right font ",22"
set ytics font ",22"
set grid ytics
set xlabel ""
set autoscale x
set offsets 0.6, 0.6, 0, 0     # half a bar of room left and right
set lmargin 10
set rmargin 2
set bmargin 5

do for [fmt in "png svg"] {
    if (fmt eq "png") { eval png_terminal } else { eval svg_terminal }
    set output out.".".fmt
    set multiplot layout 1,3 title "make bench: copying 1 GiB, and a queue with backpressure" font ",30"

    set title "copy: wall time / cp's" font ",24"
    set ylabel "ratio (lower is faster)" font ",22"
    set yrange [0:*]
    set arrow 1 from graph 0, first 1.05 to graph 1, first 1.05 nohead ls 10 front
    set label 1 "1.05" at graph 0.98, first 1.05 right offset 0, 0.6 tc rgb okabe_vermilion front
    plot copy_tsv using 0:"ratio_to_cp":xtic(1) with boxes lc rgb okabe_blue, \
         '' using 0:"ratio_to_cp":(sprintf("%.2f", column("ratio_to_cp"))) with labels offset 0, 0.8 font ",20" notitle
    unset arrow 1; unset label 1

    set title "copy: peak rss (MiB, log)" font ",24"
    set ylabel "MiB" font ",22"
    set logscale y
    set yrange [0.5:200]
    set arrow 1 from graph 0, first 4 to graph 1, first 4 nohead ls 10 front
    set label 1 "4 MiB" at graph 0.98, first 4 right offset 0, 0.6 tc rgb okabe_vermilion front
    plot copy_tsv using 0:"peak_rss_mib":xtic(1) with boxes lc rgb okabe_orange, \
         '' using 0:"peak_rss_mib":(sprintf("%.1f", column("peak_rss_mib"))) with labels offset 0, 0.8 font ",20" notitle
    unset logscale y; unset arrow 1; unset label 1

    set title "queue: jobs/s vs unbounded" font ",24"
    set ylabel "ratio (higher is faster)" font ",22"
    set yrange [0:*]
    set arrow 1 from graph 0, first 0.95 to graph 1, first 0.95 nohead ls 10 front
    set label 1 "0.95" at graph 0.98, first 0.95 right offset 0, -0.8 tc rgb okabe_vermilion front
    plot queue_tsv using 0:"ratio_to_unbounded":xtic(1) with boxes lc rgb okabe_green, \
         '' using 0:"ratio_to_unbounded":(sprintf("%.2f", column("ratio_to_unbounded"))) with labels offset 0, 0.8 font ",20" notitle
    unset arrow 1; unset label 1
    unset multiplot
    unset output
}
