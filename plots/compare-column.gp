# compare-column.gp - one of the lab's own columns per iteration, for every
# mode, overlaid (compare-COLUMN.png): what the lab names in compare=,
# such as lab 6's hit_rate.
#
# plot.sh runs it after a file of its own that sets the arrays files and
# names (a TSV and a mode name each), col (the column), out, ttl and
# caption. A _kib column is drawn in MiB.
load 'plots/style.gp'

is_kib = strlen(col) > 4 && col[strlen(col)-3:] eq "_kib"
col_value(c) = is_kib ? column(c) / 1024. : column(c)
set ylabel (is_kib ? col[1:strlen(col)-4]." (MiB)" : col)
set yrange [0:*]

do for [fmt in fmts] {
    eval terminal_for(fmt)
    set title ttl font font_of(fmt, 34)
    set label 100 caption at screen 0.5, screen 0.035 center font font_of(fmt, 28)
    set output out.suffix_for(fmt)
    plot for [i=1:|files|] files[i] using "iter":(col_value(col)) \
        with lines ls i lw 4 title names[i]
    unset output
}
