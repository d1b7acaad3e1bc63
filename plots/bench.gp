# bench.gp - make bench's chart: lab 5's copy against cp (wall time ratio,
# peak rss) and lab 4's consumer throughput with backpressure.
#
# harness/bench.sh runs it as
#   gnuplot -c plots/bench.gp COPY_TSV QUEUE_TSV OUT COPY_SIZE
# with its medians' TSVs, the output path without extension and the size
# copied ("1G"). Script arguments reach gnuplot as strings (ARG1...), never
# as code, so a path with a quote in it is only a path.
load 'plots/style.gp'
copy_tsv = ARG1; queue_tsv = ARG2; out = ARG3; copy_size = ARG4

set style fill solid 0.9 border -1
set boxwidth 0.7
unset key
set grid ytics
set xlabel ""
set autoscale x
set offsets 0.6, 0.6, 0, 0     # half a bar of room left and right
set xtics nomirror rotate by 40 right font ",24"
set ytics font ",24"

# A goal is a dashed line, named in its panel's title rather than on the
# plot, where it would sit on a bar whatever the numbers are. The number
# above each bar is drawn from the data, one font step smaller.
do for [fmt in "png svg"] {
    if (fmt eq "png") { eval png_terminal } else { eval svg_terminal }
    set output out.".".fmt
    # Three panels across, each with the same fixed margins, so that no
    # title runs off the right edge and tick labels have their room.
    set multiplot layout 1,3 \
        title sprintf("make bench: copying %s, and a queue with backpressure", copy_size) \
        font ",32" margins 0.085, 0.98, 0.24, 0.80 spacing 0.09, 0

    set title "copy: time ÷ cp's\ngoal ≤ 1.05 (dashed)" font ",26"
    set ylabel "ratio (lower is faster)" font ",24" offset 1.5, 0
    stats copy_tsv using "ratio_to_cp" nooutput
    set yrange [0:(STATS_max > 1.05 ? STATS_max : 1.05) * 1.2]
    set arrow 1 from graph 0, first 1.05 to graph 1, first 1.05 nohead ls 10 front
    plot copy_tsv using 0:"ratio_to_cp":xtic(1) with boxes lc rgb okabe_blue, \
         '' using 0:"ratio_to_cp":(sprintf("%.2f", column("ratio_to_cp"))) \
            with labels offset 0, 0.8 font ",22" notitle
    unset arrow 1

    set title "copy: peak rss (log)\ngoal ≤ 4 MiB (dashed)" font ",26"
    set ylabel "MiB" font ",24" offset 1.5, 0
    set logscale y
    set yrange [0.5:300]
    set arrow 1 from graph 0, first 4 to graph 1, first 4 nohead ls 10 front
    plot copy_tsv using 0:"peak_rss_mib":xtic(1) with boxes lc rgb okabe_orange, \
         '' using 0:"peak_rss_mib":(sprintf("%.1f", column("peak_rss_mib"))) \
            with labels offset 0, 0.8 font ",22" notitle
    unset logscale y; unset arrow 1

    set title "queue: jobs/s ÷ unbounded\ngoal ≥ 0.95 (dashed)" font ",26"
    set ylabel "ratio (higher is faster)" font ",24" offset 1.5, 0
    stats queue_tsv using "ratio_to_unbounded" nooutput
    set yrange [0:(STATS_max > 0.95 ? STATS_max : 0.95) * 1.2]
    set arrow 1 from graph 0, first 0.95 to graph 1, first 0.95 nohead ls 10 front
    plot queue_tsv using 0:"ratio_to_unbounded":xtic(1) with boxes lc rgb okabe_green, \
         '' using 0:"ratio_to_unbounded":(sprintf("%.2f", column("ratio_to_unbounded"))) \
            with labels offset 0, 0.8 font ",22" notitle
    unset arrow 1
    unset multiplot
    unset output
}
