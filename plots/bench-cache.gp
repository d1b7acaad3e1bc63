# bench-cache.gp - make bench's chart for lab 6: lru's lookup against
# unbounded's (time ratio), and the redis mode's round trips per second
# beside redis-benchmark's on the same socket.
#
# harness/bench.sh runs it as
#   gnuplot -c plots/bench-cache.gp LOOKUP_TSV REDIS_TSV OUT LOOKUPS
# with its medians' TSVs, the output path without extension and the
# number of lookups timed. Script arguments reach gnuplot as strings
# (ARG1...), never as code.
load 'plots/style.gp'
lookup_tsv = ARG1; redis_tsv = ARG2; out = ARG3; lookups = ARG4

set style fill solid 0.9 border -1
set boxwidth 0.6
unset key
set grid ytics
set xlabel ""
set autoscale x
set offsets 0.6, 0.6, 0, 0     # half a bar of room left and right
set xtics nomirror rotate by 25 right font ",24"
set ytics font ",24"

do for [fmt in "png svg"] {
    if (fmt eq "png") { eval png_terminal } else { eval svg_terminal }
    set output out.".".fmt
    set multiplot layout 1,2 \
        title sprintf("make bench: lab 6's caches, %s lookups on 100000 keys; Redis round trips", lookups) \
        font ",32" margins 0.09, 0.97, 0.22, 0.80 spacing 0.12, 0

    set title "lookup: time ÷ unbounded's\ngoal ≤ 1.5 (dashed)" font ",26"
    set ylabel "ratio (lower is faster)" font ",24" offset 1.5, 0
    stats lookup_tsv using "ratio_to_unbounded" nooutput
    set yrange [0:(STATS_max > 1.5 ? STATS_max : 1.5) * 1.2]
    set arrow 1 from graph 0, first 1.5 to graph 1, first 1.5 nohead ls 10 front
    plot lookup_tsv using 0:"ratio_to_unbounded":xtic(1) with boxes lc rgb okabe_blue, \
         '' using 0:"ratio_to_unbounded":(sprintf("%.2f (%.0f ns)", column("ratio_to_unbounded"), column("ns_per_lookup"))) \
            with labels offset 0, 0.8 font ",22" notitle
    unset arrow 1

    set title "Redis GET, one round trip each\nover the unix socket, 1 client" font ",26"
    set ylabel "round trips per second" font ",24" offset 1.5, 0
    set autoscale y        # stats skips points outside a fixed range
    stats redis_tsv using "round_trips_per_s" nooutput
    set yrange [0:STATS_max * 1.25]
    plot redis_tsv using 0:"round_trips_per_s":xtic(1) with boxes lc rgb okabe_green, \
         '' using 0:"round_trips_per_s":(sprintf("%.0f", column("round_trips_per_s"))) \
            with labels offset 0, 0.8 font ",22" notitle
    unset multiplot
    unset output
}
