# versus.gp - make check's chart: the student's run and the reference
# fix's, rss per iteration, overlaid on one chart with the budget, since
# the point is to see one line beside the other (they do not coincide:
# the starter grows, the fix stays flat).
#
# versus.sh runs it after a file of its own that sets the arrays files and
# names (a TSV and a mode name each, whatever characters their names
# hold), out, ttl, caption, ymax, ptn (points every ptn rows) and
# term ("files" for PNG and SVG, "text" for the terminal), and draws the
# caps and the verdict markers.
load 'plots/style.gp'

set yrange [0:ymax]
# A run killed mid-iteration is marked past its last row: widen x to it.
if (exists("xend")) { set xrange [0:xend] }
set ylabel "rss (MiB)"

if (term eq "text") {
    eval text_terminal
    set key outside bottom center horizontal noreverse nobox
    unset grid
    set bmargin 4
    set title ttl
    plot for [i=1:|files|] files[i] \
        using "iter":(column("rss_kib")/1024.) with lines title names[i]
} else {
    do for [fmt in fmts] {
        eval terminal_for(fmt)
        set title ttl font font_of(fmt, 34)
        set label 100 caption at screen 0.5, screen 0.035 center font font_of(fmt, 28)
        set output out.suffix_for(fmt)
        plot for [i=1:|files|] files[i] \
            using "iter":(column("rss_kib")/1024.) with linespoints ls i \
            lw (i < 4 ? 11 - 2.5 * i : 3) pointinterval ptn \
            title names[i]
        # Earlier modes are drawn wider, so a mode that runs exactly on top
        # of another (lose over retain) still shows both colours.
        unset output
    }
}
