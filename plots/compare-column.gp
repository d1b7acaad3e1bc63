# compare-column.gp - one of the lab's own columns per iteration, a panel
# per mode on the same axes (compare-COLUMN.png): what the lab names in
# compare_charts=, such as lab 6's hit_rate. Panels, as in compare.gp, so
# that no mode's line can hide under another's; the same y range in each,
# so heights compare across them.
#
# plot.sh runs it after a file of its own that sets the arrays files and
# names (a TSV and a mode name each), col (the column), out, ttl and
# caption. A _kib column is drawn in MiB.
load 'plots/style.gp'

is_kib = strlen(col) > 4 && col[strlen(col)-3:] eq "_kib"
col_value(c) = is_kib ? column(c) / 1024. : column(c)
col_title = is_kib ? col[1:strlen(col)-4]." (MiB)" : col

# The highest value of any mode: every panel gets the same y range.
top = 0
do for [i=1:|files|] {
    stats files[i] using (col_value(col)) nooutput
    top = STATS_max > top ? STATS_max : top
}
top = top > 0 ? top * 1.1 : 1
set yrange [0:top]
unset key
set ylabel ""
set xlabel ""                     # one name for every panel, below them
set ytics 0, (top > 10 ? 10 ** floor(log10(top)) * (top / 10 ** floor(log10(top)) > 5 ? 2 : 1) : 1)

n = |files|
cols = n <= 3 ? n : (n == 4 ? 2 : 3)
rows = int((n + cols - 1) / cols)

do for [fmt in fmts] {
    eval terminal_for(fmt)
    set output out.suffix_for(fmt)
    tics_font = font_of(fmt, 24)   # set tics font takes no call
    set tics font tics_font
    set multiplot layout rows, cols margins 0.09, 0.98, 0.22, 0.8 \
        spacing 0.06, 0.2 title ttl font font_of(fmt, 34)
    set label 100 caption at screen 0.5, screen 0.035 center font font_of(fmt, 28)
    set label 101 col_title at screen 0.02, screen 0.5 center rotate by 90
    set label 102 xlab at screen 0.535, screen 0.085 center
    do for [i=1:n] {
        set title names[i] font font_of(fmt, 30)
        plot files[i] using "iter":(col_value(col)) with lines ls i lw 4 notitle
        unset label 100
        unset label 101
        unset label 102
    }
    unset multiplot
    unset output
}
