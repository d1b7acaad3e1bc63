# hunt.gp - what leaklab hunt found: the first sites of its order (the
# largest growth first), with Size Delta for each interval between
# snapshots, as DevTools' Comparison view sorts them.
#
# hunt.sh runs it after a file of its own that sets rows (a TSV it wrote:
# site, location, leak, then size_delta_1..nint, delta_1..nint, and the
# bytes at the last snapshot), nrows, nint, spans[1..nint] (each
# interval's name), unit and scale (MiB or KiB), out (the path without
# extension), ttl, caption and table: 0 for the bar chart, 1 for the
# table page (the slides'). Labels 1 to 99 are the table's headings.
load 'plots/style.gp'

size(row, k) = column(3 + k) / scale            # Size Delta, in unit
bar_h = 0.8 / nint                              # each interval's bar
bar_y(k) = $0 + (k - (nint + 1) / 2.) * bar_h   # centred on its row
# A site on one line: its function, its file's name and line, leak?.
base(path) = strstrt(path, "/") ? base(path[strstrt(path, "/") + 1:]) : path
site_label(leak) = strcol(1) . "  " . base(strcol(2)) . (leak eq "leak?" ? "  leak?" : "")
# Bytes as a person reads them, with their sign: "+4.88 MiB", "+113 B".
human(b) = b == 0 ? "0" : abs(b) >= 1048576 ? sprintf("%+.2f MiB", b / 1048576.) : \
           abs(b) >= 1024 ? sprintf("%+.1f KiB", b / 1024.) : sprintf("%+d B", b)
value_label(v) = v == 0 ? "" : human(v * scale)   # right of the bar, or of 0

# The x range: every bar, 0 included, with room for the value labels.
lo = 0; hi = 0
do for [k=1:nint] {
    stats rows using (column(3 + k) / scale) nooutput
    lo = STATS_min < lo ? STATS_min : lo
    hi = STATS_max > hi ? STATS_max : hi
}
span = hi - lo > 0 ? hi - lo : 1
flat = hi == 0 && lo == 0       # no site grew or shrank

if (table == 0) {
    set yrange [nrows - 0.5 : -0.5]     # the first site on top
    # Whole-number ticks, 1, 2 or 5 times a power of ten apart.
    nice(x) = (x <= 1 ? 1 : x <= 2 ? 2 : x <= 5 ? 5 : 10)
    raw = span / 6.
    step = raw <= 1 ? 1 : nice(raw / 10 ** floor(log10(raw))) * 10 ** floor(log10(raw))
    set xtics step format "%.0f"
    if (flat) {
        set xrange [0:10]
        set xtics 2
        set label 102 "no site changed size between snapshots" at graph 0.97, graph 0.9 right tc rgb "#5f5f5f" front
    } else {
        set xrange [lo - (lo < 0 ? 0.3 * span : 0) : hi + 0.3 * span]
    }
    set xlabel "Size Delta (" . unit . "), between snapshots"
    unset ylabel
    set ytics scale 0
    set grid xtics noytics
    set arrow 1 from first 0, graph 0 to first 0, graph 1 nohead lc rgb "#000000" lw 2 front
    # The sites' names on the left, the key under the title, in one row.
    set lmargin at screen 0.40
    set rmargin at screen 0.95
    set tmargin at screen 0.80
    set key at screen 0.5, screen 0.865 center center vertical Left reverse nobox
    set style fill solid 0.9 border -1
    do for [fmt in fmts] {
        eval terminal_for(fmt)
        unset title
        set label 101 ttl at screen 0.5, screen 0.95 center font font_of(fmt, 34)
        ytics_font = font_of(fmt, 24)
        set ytics font ytics_font
        if (flat) { set label 102 font font_of(fmt, 28) }
        set label 100 caption at screen 0.5, screen 0.035 center font font_of(fmt, 28)
        set output out . suffix_for(fmt)
        plot rows using (0):0:ytic(site_label(strcol(3))) with points ps 0 notitle, \
             for [k=1:nint] rows using (size(0, k) == 0 ? NaN : size(0, k) / 2):(bar_y(k)):(abs(size(0, k)) / 2):(bar_h / 2) \
                 with boxxyerror ls k title spans[k], \
             for [k=1:nint] rows using (size(0, k) > 0 ? size(0, k) : 0):(bar_y(k)):(value_label(size(0, k))) \
                 with labels left offset 0.6, 0 font font_of(fmt, 22) notitle
        unset output
    }
} else {
    # The table: a row per site, its Size Delta and Delta per interval,
    # its bytes at the end, leak?. Cells are labels at fixed places.
    unset border; unset tics; unset key; unset grid
    set xrange [0:1]; set yrange [0:1]
    set lmargin 0; set rmargin 0; set tmargin 0; set bmargin 0
    size_x(k) = 0.555 + (k - 1) * 0.40 / nint    # interval k's Size Delta,
    delta_x(k) = size_x(k) + 0.08                 # and Delta: right edges
    row_y(i) = 0.70 - i * 0.085
    do for [fmt in fmts] {
        eval terminal_for(fmt)
        set output out . suffix_for(fmt)
        body = font_of(fmt, 26)
        set label 1 ttl at screen 0.04, screen 0.92 left font font_of(fmt, 36)
        set label 2 caption at screen 0.04, screen 0.85 left font font_of(fmt, 28)
        set label 3 "site" at screen 0.04, screen row_y(0) left font body
        do for [k=1:nint] {
            set label (3 + k) spans[k] at screen delta_x(k), screen row_y(0) + 0.05 right font font_of(fmt, 22) tc rgb "#5f5f5f"
            set label (20 + k) "Size Delta" at screen size_x(k), screen row_y(0) right font font_of(fmt, 22)
            set label (40 + k) "Delta" at screen delta_x(k), screen row_y(0) right font font_of(fmt, 22)
        }
        set label 60 "at the end" at screen 0.97, screen row_y(0) + 0.05 right font font_of(fmt, 22) tc rgb "#5f5f5f"
        set label 61 "bytes" at screen 0.97, screen row_y(0) right font font_of(fmt, 22)
        # The rows' cells come from the record, through plot's labels.
        plot rows using (0.04):(row_y($0 + 1)):(strcol(1) . "  " . strcol(2) . (strcol(3) eq "leak?" ? "   leak?" : "")) \
                 with labels left font body tc rgb "#000000", \
             for [k=1:nint] rows using (size_x(k)):(row_y($0 + 1)):(human(column(3 + k))) \
                 with labels right font body, \
             for [k=1:nint] rows using (delta_x(k)):(row_y($0 + 1)):(sprintf("%+d", column(3 + nint + k))) \
                 with labels right font body, \
             rows using (0.97):(row_y($0 + 1)):(sprintf("%.2f %s", column(4 + 2 * nint) / scale, unit)) \
                 with labels right font body
        unset output
    }
}
