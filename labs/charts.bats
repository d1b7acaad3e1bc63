#!/usr/bin/env bats
# The charts a teacher projects: each shows the wall its lesson is about,
# no mode hidden under another, no label on a line. Every lab is run once,
# at classroom sizes, and its charts drawn (classroom_out, shared with
# slides.bats); the tests read the SVGs and the text charts those records
# give.
#
# The SVG checks measure what the PNG shows: style.gp draws the SVG at the
# PNG's sizes (a 30 pt font is 40 px in both), and a text's box is worked
# out from DejaVu Sans's own advance widths.

load test_helper

setup_file() {
    export CHARTS_OUT=$BATS_FILE_TMPDIR/out   # skipped below
    [[ -n ${LEAKLAB_SANITIZER:-} ]] && return 0
    CHARTS_OUT=$(classroom_out) || return 1   # make slides: every lab, charted
}

setup() {
    skip_if_sanitized "the charts come from the normal build"
    O=$CHARTS_OUT
}

# --------------------------------------------------------------------------
# Reading a gnuplot SVG
# --------------------------------------------------------------------------

# svg_parts FILE - what FILE draws, one thing a line, tab-separated:
#   text  LEFT TOP RIGHT BOTTOM  TEXT   a text (not rotated), its box in px
#   line  X1 Y1 X2 Y2  STROKE           a segment of a drawn line: data,
#                                       walls, key samples (not the axes,
#                                       ticks or grid)
#   point X Y R                         a point symbol, R px either side
# A text's box: its advance widths, from its anchor (start, middle or
# end), 0.74 em above its baseline to 0.2 em below.
svg_parts() {
    LC_ALL=C awk '
    BEGIN {
        RS = "\001"
        split("318 401 460 838 636 950 780 275 390 390 500 838 318 361 318 337 " \
              "636 636 636 636 636 636 636 636 636 636 337 337 838 838 838 531 " \
              "1000 684 686 698 770 632 575 775 752 295 295 656 557 863 748 787 " \
              "603 787 695 635 611 732 684 989 685 611 685 390 337 390 838 500 " \
              "500 613 635 550 635 615 352 635 634 278 278 579 278 974 634 612 " \
              "635 635 411 521 392 634 592 818 592 592 525 636 337 636 838", adv, " ")
        for (i = 32; i < 127; i++) code[sprintf("%c", i)] = i
    }
    function em(s,    i, c, w) {
        for (i = 1; i <= length(s); i++) {
            c = substr(s, i, 1)
            if (c in code) w += adv[code[c] - 31] / 1000
            else if (c >= "\300") w += 0.84
        }
        return w
    }
    function attr(tag, name) {
        if (!match(tag, name "=[\047\"][^\047\"]*[\047\"]")) return ""
        return substr(tag, RSTART + length(name) + 2, RLENGTH - length(name) - 3)
    }
    {
        n = split($0, part, "<")
        for (k = 2; k <= n; k++) {
            t = part[k]
            if (t ~ /^g transform="translate\(/) {
                tr = attr(t, "transform"); rot = tr ~ /rotate/
                sub(/^translate\(/, "", tr); split(tr, xy, /[,)]/)
                gx = xy[1]; gy = xy[2]; fs = attr(t, "font-size"); anc = attr(t, "text-anchor")
            } else if (t ~ /^text>/) {
                txt = t; sub(/^[^>]*>/, "", txt)
            } else if (t ~ /^tspan/) {
                c = t; sub(/^[^>]*>/, "", c); txt = txt c
            } else if (t ~ /^\/text>/) {
                gsub(/&lt;/, "<", txt); gsub(/&gt;/, ">", txt); gsub(/&apos;/, "\047", txt)
                gsub(/&quot;/, "\"", txt); gsub(/&amp;/, "\\&", txt)
                sub(/^ +/, "", txt); sub(/ +$/, "", txt)
                if (txt == "" || rot) continue
                w = em(txt) * fs
                l = anc == "end" ? gx - w : anc == "middle" ? gx - w / 2 : gx
                printf "text\t%.1f\t%.1f\t%.1f\t%.1f\t%s\n", l, gy - 0.74 * fs, l + w, gy + 0.2 * fs, txt
            } else if (t ~ /^path /) {
                stroke = attr(t, "stroke")
                if (attr(t, "class") == "gridline") continue
                if (stroke == "black" && attr(t, "stroke-dasharray") == "") continue
                d = attr(t, "d"); gsub(/[\n\t]/, " ", d)
                m = split(d, cmd, " "); have = 0
                for (j = 1; j <= m; j++) {
                    op = substr(cmd[j], 1, 1)
                    if (op != "M" && op != "L") { if (cmd[j] != "") have = 0; continue }
                    split(substr(cmd[j], 2), q, ",")
                    if (op == "L" && have)
                        printf "line\t%s\t%s\t%s\t%s\t%s\n", lx, ly, q[1], q[2], stroke
                    lx = q[1]; ly = q[2]; have = 1
                }
            } else if (t ~ /^use /) {
                tr = attr(t, "transform")
                if (tr !~ /^translate/) continue
                sc = tr; sub(/.*scale\(/, "", sc); sub(/\).*/, "", sc)
                sub(/^translate\(/, "", tr); split(tr, xy, /[,)]/)
                printf "point\t%s\t%s\t%s\n", xy[1], xy[2], sc
            }
        }
    }' "$1"
}

# crowding FILE - every text FILE draws on a line, on a point or on
# another text, one line each; nothing when every text stands in free
# space. A line within 3 px of a text's box touches it (lines are 4 to
# 5 px wide).
crowding() {
    svg_parts "$1" | LC_ALL=C awk -F'\t' -v tol=3 '
    $1 == "text"  { nt++; l[nt] = $2; t[nt] = $3; r[nt] = $4; b[nt] = $5; s[nt] = $6 }
    $1 == "line"  { ns++; ax[ns] = $2; ay[ns] = $3; bx[ns] = $4; by[ns] = $5 }
    $1 == "point" { np++; px[np] = $2; py[np] = $3; pr[np] = $4 }
    # Liang-Barsky: some part of the segment lies in the box.
    function hits(ax, ay, bx, by, L, T, R, B,    dx, dy, u0, u1, i, p, q, u) {
        dx = bx - ax; dy = by - ay; u0 = 0; u1 = 1
        p[1] = -dx; q[1] = ax - L; p[2] = dx; q[2] = R - ax
        p[3] = -dy; q[3] = ay - T; p[4] = dy; q[4] = B - ay
        for (i = 1; i <= 4; i++) {
            if (p[i] == 0) { if (q[i] < 0) return 0; continue }
            u = q[i] / p[i]
            if (p[i] < 0) { if (u > u1) return 0; if (u > u0) u0 = u }
            else { if (u < u0) return 0; if (u < u1) u1 = u }
        }
        return 1
    }
    END {
        if (nt == 0 || ns == 0) { print "no texts or no lines: not a chart?"; exit }
        for (i = 1; i <= nt; i++) {
            L = l[i] - tol; T = t[i] - tol; R = r[i] + tol; B = b[i] + tol
            for (j = 1; j <= ns; j++)
                if (hits(ax[j], ay[j], bx[j], by[j], L, T, R, B)) {
                    printf "\"%s\" on a line at (%d,%d)-(%d,%d)\n", s[i], ax[j], ay[j], bx[j], by[j]; break
                }
            for (j = 1; j <= np; j++)
                if (px[j] + pr[j] > L && px[j] - pr[j] < R && py[j] + pr[j] > T && py[j] - pr[j] < B) {
                    printf "\"%s\" on a point at (%d,%d)\n", s[i], px[j], py[j]; break
                }
            for (j = i + 1; j <= nt; j++)
                if (l[j] < r[i] && r[j] > l[i] && t[j] < b[i] && b[j] > t[i])
                    printf "\"%s\" on \"%s\"\n", s[i], s[j]
        }
    }'
}

# svg_texts FILE - the texts FILE draws, one a line.
svg_texts() {
    svg_parts "$1" | awk -F'\t' '$1 == "text" { print $6 }'
}

# every_svg - every chart drawn in setup_file, one path a line.
every_svg() {
    find "$O" -name '*.svg' | sort
}

# axes SVG - "left right bottom" of the chart's plot boxes together, in
# px: the axes gnuplot draws (black paths of three points and more).
axes() {
    grep -o "stroke='black'  d='M[0-9.]*,[0-9.]* L[0-9.]*,[0-9.]* L[0-9.]*,[0-9.]*" "$1" |
        sed "s/.*d='//; s/[ML]//g" | tr ' ' '\n' |
        awk -F, 'NF == 2 { if (l == "" || $1 + 0 < l) l = $1 + 0; if ($1 + 0 > r) r = $1 + 0
                           if ($2 + 0 > b) b = $2 + 0 }
                 END { print l, r, b }'
}

# --------------------------------------------------------------------------
# No label on a line
# --------------------------------------------------------------------------

@test "no text in any chart sits on a line, a point or another text" {
    local svg found=0 bad=""
    while IFS= read -r svg; do
        found=$((found + 1))
        bad+=$(crowding "$svg" | sed "s|^|${svg#"$O"/}: |"; echo x)
        bad=${bad%x}
    done < <(every_svg)
    (( found >= 20 )) || fail "only $found SVGs in $O"
    [[ -z ${bad//$'\n'/} ]] || fail "$bad"
}

@test "the crowding check sees a label gnuplot put on a line, and passes one beside it" {
    local gp=$BATS_TEST_TMPDIR/on.gp
    # The project's own style and SVG terminal, a line from corner to
    # corner, a label on it in the middle: caught. Then one in the empty
    # corner above it: clear.
    cat >"$gp" <<EOF
load 'plots/style.gp'
fmt = "svg"
eval terminal_for(fmt)
set xrange [0:10]; set yrange [0:10]
set output "$BATS_TEST_TMPDIR/on.svg"
set label 1 "on the line" at first 5, first 5 center
plot x with lines ls 1 notitle
set output "$BATS_TEST_TMPDIR/off.svg"
set label 1 "off the line" at first 1, first 9 left
plot x with lines ls 1 notitle
EOF
    (cd "$LEAKLAB_ROOT" && gnuplot "$gp")
    run crowding "$BATS_TEST_TMPDIR/on.svg"
    assert_output --partial '"on the line" on a line'
    run crowding "$BATS_TEST_TMPDIR/off.svg"
    assert_output ""
}

# --------------------------------------------------------------------------
# Every chart shows its own walls
# --------------------------------------------------------------------------

@test "a Node comparison moves a wall label with no free place under its panel's title" {
    [[ -e $O/lab2/node-lab.meta ]] || skip "node is not installed (make deps installs nodejs)"
    local d=$BATS_TEST_TMPDIR/lab2 tsv
    cp -r -- "$O/lab2" "$d"
    tsv=$d/node-kill.tsv
    # The twin's kill run, redrawn as a saw from 0 to past the cap on
    # every row: its panel has no free place left for the cap's label.
    awk -F'\t' -v OFS='\t' '/^#/ || $1 == "iter" { print; next } { row = $0 }
        END { n = split(row, f, "\t")
              for (i = 1; i <= 60; i++) { f[1] = i; f[3] = i % 2 ? 1000 : 300000
                                          s = f[1]; for (k = 2; k <= n; k++) s = s OFS f[k]; print s } }' \
        "$tsv" >"$tsv.new"
    mv -- "$tsv.new" "$tsv"
    run plots/node-compare.sh --formats svg "$d"
    assert_success
    run crowding "$d/node-compare.svg"
    assert_output ""
    run svg_texts "$d/node-compare.svg"
    assert_line --regexp '^both killed; cap [0-9]+ MiB \(kill\)$'
}

@test "the probe records the heap budget of every run that keeps one, and only those" {
    local mode
    for mode in offheap heap release; do
        grep -qx '# max_heap=293601280' "$O/lab3/$mode.tsv" || fail "lab 3 $mode records no budget"
    done
    grep -qx '# max_heap=293601280' "$O/lab2/budget.tsv" || fail "lab 2 budget records no budget"
    for mode in rlimit kill lazy; do
        ! grep -q '^# max_heap=' "$O/lab2/$mode.tsv" || fail "lab 2 $mode records a budget it does not keep"
    done
}

@test "lab 2's budget chart draws its heap budget, and no cap it never meets" {
    run svg_texts "$O/lab2/budget.svg"
    assert_line "heap budget 280 MiB"
    refute_output --partial "2048"
    refute_output --regexp "cap [0-9]+ MiB"
}

# A wall's label is one line ("cap 128 MiB (rlimit)"), or two where one
# does not fit ("cap 128 MiB", "(rlimit)"; "heap budget", "280 MiB").

@test "every panel of lab 3's comparison draws the 280 MiB heap budget" {
    run svg_texts "$O/lab3/compare.svg"
    assert_equal "$(grep -c '280 MiB$' <<<"$output")" 3
    assert_equal "$(grep -c '^heap budget' <<<"$output")" 3
}

# panel_of SVG TEXT - the panel a text sits in: the panel title (a mode's
# name, drawn above its plot) nearest above the text, in its column.
panel_of() {
    svg_parts "$1" | awk -F'\t' -v want="$2" -v modes="$3" '
        BEGIN { n = split(modes, m, " "); for (i = 1; i <= n; i++) is_mode[m[i]] = 1 }
        $1 == "text" && ($6 in is_mode) { tn++; tx[tn] = ($2 + $4) / 2; ty[tn] = $5; tt[tn] = $6 }
        $1 == "text" && $6 == want { wx = $2; wy = $3 }
        END {
            for (i = 1; i <= tn; i++) {
                if (ty[i] > wy) continue                  # below it: not its panel
                d = (wx - tx[i]) ^ 2 + ((wy - ty[i]) / 4) ^ 2
                if (best == "" || d < bd) { best = tt[i]; bd = d }
            }
            print best
        }'
}

@test "a comparison draws each wall in the panel of the mode it belongs to, labelled with its kind" {
    local svg=$O/lab2/compare.svg modes="budget rlimit kill lazy"
    run svg_texts "$svg"
    assert_equal "$(grep -c '280 MiB$' <<<"$output")" 1
    assert_equal "$(grep -c '^heap budget' <<<"$output")" 1
    assert_equal "$(grep -c '^cap 128 MiB' <<<"$output")" 1
    assert_equal "$(grep -cE '^cap 128 MiB \(rlimit\)$|^\(rlimit\)$' <<<"$output")" 1
    assert_equal "$(grep -c '^cap 192 MiB' <<<"$output")" 2
    assert_equal "$(grep -cE '^cap 192 MiB \(kill\)$|^\(kill\)$' <<<"$output")" 2
    assert_equal "$(panel_of "$svg" "$(grep -m1 '280 MiB$' <<<"$output")" "$modes")" budget
    assert_equal "$(panel_of "$svg" "$(grep -m1 '^cap 128 MiB' <<<"$output")" "$modes")" rlimit
}

@test "lab 3's comparison draws heap_used beside rss in each mode's panel" {
    run svg_texts "$O/lab3/compare.svg"
    assert_line --partial "rss of every mode, and heap_used"
    assert_line "heap_used"
    for mode in offheap heap release; do assert_line "$mode"; done
    # One dashed green line per panel, and the key's sample.
    (( $(svg_parts "$O/lab3/compare.svg" | awk -F'\t' '$1 == "line" && $6 ~ /0, 158, 115/' |
         cut -f2 | sort -un | grep -c .) > 3 )) || fail "no heap_used line in each panel"
}

# --------------------------------------------------------------------------
# Axes, the end cross, series worth drawing
# --------------------------------------------------------------------------

@test "an iteration axis has whole-number ticks only" {
    local svg bad=""
    while IFS= read -r svg; do
        # x tick labels: the numbers centred under an axis.
        bad+=$(grep -B1 '<text>' "$svg" | grep -A1 'text-anchor="middle"' |
               grep -o '<text>[^<]*</text>' | sed 's/<[^>]*>//g; s/^ *//' |
               grep -E '^-?[0-9]+\.[0-9]+$' | sed "s|^|${svg#"$O"/}: |"; echo x)
        bad=${bad%x}
    done < <(every_svg)
    [[ -z ${bad//$'\n'/} ]] || fail "ticks that are not whole: $bad"
}

# cross_and_last SVG - "x y" of the end cross (the largest point symbol
# in the plot) and of rss's last point (the rightmost end of its blue
# line), in px. The key, below the plot, is not looked at.
cross_and_last() {
    local l r b
    read -r l r b < <(axes "$1")
    svg_parts "$1" | awk -F'\t' -v b="$b" '
        $1 == "point" && $3 + 0 < b && $4 + 0 > big { big = $4 + 0; cx = $2; cy = $3 }
        $1 == "line" && $6 ~ /0, 114, 178/ && $5 + 0 < b { if ($4 + 0 > lx) { lx = $4 + 0; ly = $5 } }
        END { print cx, cy, lx, ly }'
}

@test "the end cross sits on the last recorded row, whatever the verdict" {
    local svg cx cy lx ly
    # killed (the watchdog), a wall of the lab's own (exit 3), finished.
    for svg in "$O/lab2/kill.svg" "$O/lab2/budget.svg" "$O/lab5/slurp.svg" "$O/lab4/unbounded.svg"; do
        read -r cx cy lx ly < <(cross_and_last "$svg")
        awk -v a="$cx" -v b="$cy" -v c="$lx" -v d="$ly" \
            'BEGIN { exit !((a - c) ^ 2 + (b - d) ^ 2 < 4) }' ||
            fail "${svg#"$O"/}: the cross at ($cx, $cy), the last row at ($lx, $ly)"
    done
}

@test "a killed run's label gives the rss the watchdog saw, which the cross cannot show" {
    local seen mib
    seen=$(meta_number "$O/lab2/kill.meta" watchdog_rss_kib)
    mib=$(( (seen + 512) / 1024 ))
    (( mib >= 192 )) || fail "the watchdog saw $mib MiB, not over the 192 MiB cap"
    run svg_texts "$O/lab2/kill.svg"
    assert_line "killed: SIGKILL at rss $mib MiB"   # how far over: the load's
}

# y_top SVG - the highest y tick label of the chart's left axis.
y_top() {
    grep -A1 'text-anchor="end"' "$1" | grep -o '<text>[^<]*</text>' |
        sed 's/<[^>]*>//g; s/^ *//' | grep -E '^[0-9.]+$' | sort -g | tail -n 1
}

@test "a flat run's y axis reaches 10 MiB, so that flat looks flat" {
    local svg top
    for svg in "$O/lab5/stream.svg" "$O/lab4/bounded.svg" "$O/lab1/release.svg"; do
        top=$(y_top "$svg")
        awk -v t="$top" 'BEGIN { exit !(t >= 10) }' || fail "${svg#"$O"/}: y stops at $top MiB"
    done
}

@test "a series that never changes is left out; one that does is drawn" {
    # slurp is killed before it writes: copied stays 0. shed drops jobs.
    run svg_texts "$O/lab5/slurp.svg"
    refute_output --partial "copied"
    run svg_texts "$O/lab3/release.svg"
    refute_line "external"
    run svg_texts "$O/lab4/shed.svg"
    assert_line "dropped (right)"
    run svg_texts "$O/lab4/unbounded.svg"
    refute_line "dropped (right)"
}

@test "the plot area spans at least 75% of the width, and the key sits below it" {
    local svg l r b key
    for svg in "$O/lab2/compare.svg" "$O/lab3/compare.svg" "$O/lab4/shed.svg" "$O/lab1/retain.svg"; do
        read -r l r b < <(axes "$svg")
        awk -v l="$l" -v r="$r" 'BEGIN { exit !(r - l >= 0.75 * 1920) }' ||
            fail "${svg#"$O"/}: the plot spans $l to $r px of 1920"
        key=$(svg_parts "$svg" | awk -F'\t' '$1 == "text" && $6 == "last row" { print $3 }')
        awk -v k="$key" -v b="$b" 'BEGIN { exit !(k > b) }' ||
            fail "${svg#"$O"/}: the key (its top at ${key:-nowhere}) is not below the plot (at $b)"
    done
}

# --------------------------------------------------------------------------
# The text chart (make labN in a terminal)
# --------------------------------------------------------------------------

# covered_ticks - of a text chart on stdin, every y tick label something
# was written over: the word before each " +|" (a tick on the axis) must
# be a number.
covered_ticks() {
    awk '{ s = $0
           while ((i = index(s, " +|")) > 0) {
               n = split(substr(s, 1, i - 1), w, " ")
               if (n == 0 || w[n] !~ /^-?[0-9.]+$/) print
               s = substr(s, i + 3)
           } }'
}

@test "the text chart writes no name over a tick label and marks each end with an X" {
    local n out modes
    for n in 2 4; do
        out=$("$LEAKLAB_ROOT/plots/plot.sh" --text "$O/lab$n")
        run covered_ticks <<<"$out"
        assert_output ""
        # One X per panel, and one in the line that says what X is.
        modes=$(sed -n 's/^modes=//p' "$O/lab$n/lab.meta" | tr ',' '\n' | grep -c .)
        assert_equal "$(grep -o X <<<"$out" | grep -c .)" $((modes + 1))
        ! grep -qE '(^|[^A-Za-z])B([^A-Za-z]|$)' <<<"$out" || fail "a bare B in lab $n's text chart"
    done
}
