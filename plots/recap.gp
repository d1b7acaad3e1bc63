# recap.gp - the deck's closing page: one line per lab, the leak, its fix
# and the tool that shows it, and where the whole story is (LESSONS.md).
#
# slides.sh runs it after a file of its own that sets out (the page's
# path), nlabs, and for each lab, i = 1 .. nlabs: rc_num_i ("Lab 4"),
# rc_leak_i, rc_fix_i and rc_tool_i (from its lab.meta's recap.*), each a
# line or two.
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

# The columns are as wide as their longest cell, at an estimated 0.52 em
# a character (DejaVu Sans, lower case and spaces); an arrow sits in the
# gap before the fix and the tool. When the three do not fit at 26 pt,
# the rows' font shrinks to fit, down to 20 pt.
em_per_char = 0.52
w_leak = 0; w_fix = 0; w_tool = 0
do for [i=1:nlabs] {
    n = strlen(value(sprintf("rc_leak_%d", i))); w_leak = n > w_leak ? n : w_leak
    n = strlen(value(sprintf("rc_fix_%d", i))); w_fix = n > w_fix ? n : w_fix
    n = strlen(value(sprintf("rc_tool_%d", i))); w_tool = n > w_tool ? n : w_tool
}
x_num = 0.04
x_leak = 0.115
gap = 0.05                                  # between columns, the arrow's room
room = 0.97 - x_leak - 2 * gap              # for the three columns' text
need = (w_leak + w_fix + w_tool) * em_per_char / 1280.0   # per pt of font
row_pt = need * 26 > room ? room / need : 26
row_pt = row_pt < 20 ? 20 : row_pt
x_fix = x_leak + w_leak * em_per_char * row_pt / 1280.0 + gap
x_tool = x_fix + w_fix * em_per_char * row_pt / 1280.0 + gap
arrow_at(x) = x - 0.65 * gap
row_font = sprintf(",%.1f", row_pt)

set label 1 "Every leak here has a fix, and a tool that shows it" \
    at screen 0.04, screen 0.925 left font "DejaVu Sans:Bold,40" tc rgb "#000000"

set label 2 "the leak" at screen x_leak, screen 0.80 left font ",22" tc rgb "#5f5f5f"
set label 3 "the fix" at screen x_fix, screen 0.80 left font ",22" tc rgb "#5f5f5f"
set label 4 "what shows it" at screen x_tool, screen 0.80 left font ",22" tc rgb "#5f5f5f"
set arrow 1 from screen 0.04, screen 0.77 to screen 0.96, screen 0.77 nohead \
    lc rgb "#999999" lw 2

# A row per lab; the rows close up a little when there are more than six.
step = nlabs > 6 ? 0.60 / nlabs : 0.10   # (labels 10i+1 .. 10i+6: up to 18 labs)
do for [i=1:nlabs] {
    y = 0.70 - (i - 1) * step
    set label (10 * i + 1) value(sprintf("rc_num_%d", i)) at screen x_num, screen y \
        left font row_font tc rgb "#6f6f6f"
    set label (10 * i + 2) value(sprintf("rc_leak_%d", i)) at screen x_leak, screen y \
        left font row_font tc rgb "#000000"
    set label (10 * i + 3) "→" at screen arrow_at(x_fix), screen y \
        left font row_font tc rgb "#6f6f6f"
    set label (10 * i + 4) value(sprintf("rc_fix_%d", i)) at screen x_fix, screen y \
        left font row_font tc rgb "#000000"
    set label (10 * i + 5) "→" at screen arrow_at(x_tool), screen y \
        left font row_font tc rgb "#6f6f6f"
    set label (10 * i + 6) value(sprintf("rc_tool_%d", i)) at screen x_tool, screen y \
        left font row_font tc rgb "#000000"
}

set label 200 "The whole story, with the code and the commands: LESSONS.md" \
    at screen 0.04, screen 0.08 left font "DejaVu Sans:Bold,28" tc rgb "#000000"

plot NaN notitle
unset output
