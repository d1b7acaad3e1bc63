# slides.gp - the deck's title page: a 1280x720 pt PDF page in the same
# look as the chart pages (style.gp's "pdf" format).
#
# slides.sh runs it after a file of its own that sets out (the page's
# path), nlabs, and lab_line_1 .. lab_line_N ("Lab 1  closure-captured
# state"), one per lab found.
load 'plots/style.gp'

fmt = "pdf"
eval terminal_for(fmt)
set output out

unset border
unset tics
unset grid
unset key
unset xlabel
unset ylabel
set margins 0, 0, 0, 0
set xrange [0:1]
set yrange [0:1]

set label 1 "Leak & Limit Labs" at screen 0.5, screen 0.84 center font font_of(fmt, 72)
set label 2 "How C programs leak memory and hit memory walls, each beside its fix" \
    at screen 0.5, screen 0.73 center font font_of(fmt, 34)

# One line per lab, under the title, left-aligned as a list; the gap
# between lines shrinks a little as labs are added, so ten still fit.
step = nlabs > 5 ? 0.45 / nlabs : 0.09
do for [i=1:nlabs] {
    set label (10 + i) value(sprintf("lab_line_%d", i)) \
        at screen 0.16, screen (0.60 - (i - 1) * step) left font font_of(fmt, 32) \
        tc rgb word("#0072B2 #000000", 1 + (i % 2 == 0))
}

set label 100 "x: iteration  |  y: memory in MiB  |  a line that climbs every iteration is a leak" \
    at screen 0.5, screen 0.035 center font font_of(fmt, 28)

plot NaN notitle
unset output
