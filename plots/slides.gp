# slides.gp - the deck's title page: a 1280x720 pt PDF page in the same
# look as the chart pages (style.gp's "pdf" format).
#
# slides.sh runs it after a file of its own that sets out (the page's
# path), nlabs, and for each lab found, i = 1 .. nlabs, lab_num_i ("Lab 1")
# and lab_title_i ("closure-captured state").
#
# Plain text, one colour per role: the lab numbers grey, their titles
# black. Nothing on it is blue or underlined, so nothing looks like a link.
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

set label 1 "Leak & Limit Labs" at screen 0.5, screen 0.83 center \
    font "DejaVu Sans:Bold,60" tc rgb "#000000"
set label 2 "How C programs leak memory and hit memory walls, each beside its fix" \
    at screen 0.5, screen 0.72 center font ",28" tc rgb "#222222"
set arrow 1 from screen 0.25, screen 0.655 to screen 0.75, screen 0.655 nohead \
    lc rgb "#999999" lw 2

# One line per lab, a list under the title; the gap between lines shrinks
# a little as labs are added, so ten still fit.
step = nlabs > 5 ? 0.45 / nlabs : 0.085
do for [i=1:nlabs] {
    y = 0.57 - (i - 1) * step
    set label (10 + 2 * i) value(sprintf("lab_num_%d", i)) \
        at screen 0.25, screen y left font ",30" tc rgb "#6f6f6f"
    set label (11 + 2 * i) value(sprintf("lab_title_%d", i)) \
        at screen 0.345, screen y left font ",30" tc rgb "#000000"
}

set label 100 "Every chart in this deck is drawn from the records of a real run" \
    at screen 0.5, screen 0.05 center font ",22" tc rgb "#5f5f5f"

plot NaN notitle
unset output
