# howto.gp - the deck's second page: how to read every chart, shown on a
# real one. One run's records drawn as run.gp draws them (the same line
# styles from style.gp), with a callout for each thing on it: the axes,
# the three memory lines, the cap and the end cross, each arrow pointing
# at the very point of the data it explains.
#
# slides.sh runs it after a file of its own that sets:
#   out            the page's path
#   tsv            the run's TSV
#   ttl            the chart's name ("Lab 2: heap growth to the cap - lazy")
#   xlab           what a row is ("iteration", or the lab's own)
#   ymax           the top of the y axis, in MiB
#   cap_mib        the run's cap, drawn when cap_label is not empty
#   cap_label      "cap 192 MiB (kill)", or "" when no cap is drawn
#   end_x, end_y   where the run ended: its last row, iteration and MiB
#   end_label      how it ended ("finished", "killed: SIGKILL")
#   ncallouts and, for k = 1 .. ncallouts, top to bottom:
#     co_term[k]   the name ("rss"), drawn in the colour whose name in
#                  style.gp is co_color[k] ("okabe_blue")
#     co_text[k]   what it means, in a line or two
#     co_x[k], co_y[k]  where its arrow points, in data coordinates
load 'plots/style.gp'

fmt = "pdf"
eval terminal_for(fmt)
set output out

# The chart on the left, the callouts in a column on the right.
plot_right = 0.56
column_left = 0.605
set lmargin at screen 0.125
set rmargin at screen plot_right
set tmargin at screen 0.73
set bmargin at screen 0.17
unset key

set label 201 "How to read every chart" at screen 0.04, screen 0.925 left \
    font "DejaVu Sans:Bold,40" tc rgb "#000000" front
set label 202 "A line that climbs every iteration is a leak; a flat line is not" \
    at screen 0.04, screen 0.845 left font ",26" tc rgb "#222222" front
set label 203 ttl." (a real run, as every chart shows one)" \
    at screen 0.04, screen 0.78 left font ",20" tc rgb "#5f5f5f" front

set xlabel "x: ".xlab." (one recorded row each)"
set ylabel "y: memory (MiB)"
set yrange [0:ymax]

# What run.gp draws on every chart: the cap, and the cross where it ended.
if (strlen(cap_label) > 0) {
    set arrow 1 from graph 0, first cap_mib to graph 1, first cap_mib nohead ls 10 front
    set label 1 cap_label at graph 0.02, first cap_mib left offset 0, 0.9 \
        font ",22" tc rgb okabe_vermilion front
}
set label 2 end_label at first end_x, first end_y right offset -1.2, 1.2 \
    font ",22" point ls 11 front

# The callouts, evenly spaced down the right column, top to bottom in the
# order of the heights they point at, so that no two arrows cross there.
gap = ncallouts > 1 ? 0.50 / (ncallouts - 1) : 0
do for [k=1:ncallouts] {
    y = 0.68 - (k - 1) * gap
    set label (10 + 2 * k) co_term[k] at screen column_left, screen y left \
        font "DejaVu Sans:Bold,24" tc rgb value(co_color[k]) front
    set label (11 + 2 * k) co_text[k] at screen column_left, screen y - 0.045 left \
        font ",20" tc rgb "#222222" front
    set arrow (10 + k) from screen column_left - 0.01, screen y \
        to first co_x[k], first co_y[k] head filled size screen 0.012, 25 \
        lc rgb "#444444" lw 2.5 front
}

plot tsv using "iter":(column("rss_kib")/1024.) with linespoints ls 1 notitle, \
     tsv using "iter":(column("heap_total_kib")/1024.) with lines ls 2 notitle, \
     tsv using "iter":(column("heap_used_kib")/1024.) with lines ls 3 dt (6, 4) notitle
unset output
