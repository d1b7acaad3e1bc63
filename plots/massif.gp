# massif.gp - two instruments on one chart, per iteration: the probe's
# heap_used (mallinfo2, in a normal run) and massif's snapshot (in a run
# under Valgrind) of the same mode with the same arguments; the probe's rss
# dotted, for memory neither heap count sees (lab 3's mmap buffers).
#
# massif.sh runs it after a file of its own that sets probe (the normal
# run's TSV), massif (the snapshots as TSV), out, ttl, caption, and pages
# (1 when massif ran with --pages-as-heap: its "heap" is then every page
# mapped, and the probe's rss is the fair thing to set beside it).
load 'plots/style.gp'

set yrange [0:*]
# Every line here starts near 0 at iteration 0 and climbs or stays flat:
# the top left of the plot is empty, kept so by a y axis 40% taller than
# the data, and the key goes there, leaving the plot the page's width.
set key inside top left vertical Left reverse samplen 2 spacing 1.2 nobox
set offsets 0, 0, graph 0.4, 0
set rmargin 6

do for [fmt in fmts] {
    eval terminal_for(fmt)
    set title ttl font font_of(fmt, 34)
    set label 100 caption at screen 0.5, screen 0.035 center font font_of(fmt, 28)
    set output out.suffix_for(fmt)
    if (pages) {
        plot probe using "iter":(column("rss_kib")/1024.) with linespoints ls 1 \
                 title "probe: rss", \
             massif using "iter":(column("mem_heap_B")/1048576.) with lines ls 4 \
                 title "massif: pages mapped"
    } else {
        # Widest first, so lines that run on top of each other (they
        # should: that is the point) still show every colour.
        plot massif using "iter":((column("mem_heap_B") + column("mem_heap_extra_B"))/1048576.) \
                 with lines ls 4 lw 12 title "massif: heap + extra", \
             massif using "iter":(column("mem_heap_B")/1048576.) with lines ls 2 lw 6 \
                 title "massif: heap", \
             probe using "iter":(column("heap_used_kib")/1024.) with linespoints ls 3 lw 3 \
                 pointinterval 5 title "probe: heap_used", \
             massif using "iter":(column("mem_stacks_B")/1048576.) with lines ls 5 \
                 title "massif: stacks", \
             probe using "iter":(column("rss_kib")/1024.) with lines ls 1 lw 4 \
                 dt (4, 4) title "probe: rss"
    }
    unset output
}
