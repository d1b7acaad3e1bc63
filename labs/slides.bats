#!/usr/bin/env bats
# What a teacher meets: the slide deck (make slides), the charts behind it,
# the second witness (make massif), LeakSanitizer as a third, and the
# documents (LESSONS.md, README.md). The deck is drawn once, at classroom
# sizes, in setup_file; every test reads what that one run wrote.

load test_helper

setup_file() {
    export SLIDES_OUT=$BATS_FILE_TMPDIR/out   # skipped below
    [[ -n ${LEAKLAB_SANITIZER:-} ]] && return 0
    SLIDES_OUT=$(classroom_out) || return 1
}

setup() {
    DECK=$SLIDES_OUT/slides.pdf
}

# The deck and its charts are drawn once, from the normal build (under a
# sanitizer, rss holds shadow memory and quarantine: another story).
skip_without_deck() {
    skip_if_sanitized "the deck and the charts come from the normal build"
}

# The labs leaklab finds, one number per line.
lab_numbers() {
    "$BUILD/leaklab" list | cut -f1 | sed 's/^lab//'
}

# describe_value N KEY - one value from build/labN --describe.
describe_value() {
    "$BUILD/lab$1" --describe | tr '\t' '\n' | sed -n "s/^$2=//p"
}

# page_text P - the text on page P of the deck.
page_text() {
    pdftotext -f "$1" -l "$1" "$DECK" -
}

# The deck's order: the title page, how to read a chart, then two pages
# per lab (its showcase run, then its comparison), a third for a lab whose
# Node.js twin ran (the two side by side), then the closing page.
# lab_pages N - how many pages lab N has in the deck: 2, or 3 with a twin.
lab_pages() {
    local n=2
    [[ ! -e $SLIDES_OUT/lab$1/node-lab.meta ]] || n=$((n + 1))   # its twin
    [[ ! -e $SLIDES_OUT/lab$1/$(describe_value "$1" showcase)-hunt.tsv ]] || n=$((n + 1))   # its hunt
    echo "$n"
}
# showcase_page I, compare_page I - the pages of the I-th lab (from 1).
showcase_page() {
    local page=3 n k=1
    for n in $(lab_numbers); do
        (( k++ < $1 )) || break
        page=$(( page + $(lab_pages "$n") ))
    done
    echo "$page"
}
compare_page() { echo $(( $(showcase_page "$1") + 1 )); }

# text_lines P [BELOW] - page P's lines of text, top to bottom, each as
# "PT<tab>TEXT" (XML's escapes undone): the words whose boxes start within 2 pt of the same
# height, left to right, and the font size of the largest (its box height
# / 1.164, as the 18 pt test below measures). Only lines whose top is
# above BELOW pt from the top of the page, when it is given.
text_lines() {
    pdftotext -bbox -f "$1" -l "$1" "$DECK" - |
        awk -F'"' '/<word / { text = $9; sub(/^>/, "", text); sub(/<.*/, "", text)
                              gsub(/&apos;/, "\047", text); gsub(/&quot;/, "\"", text)
                              gsub(/&lt;/, "<", text); gsub(/&gt;/, ">", text); gsub(/&amp;/, "\\&", text)
                              printf "%.2f\t%.2f\t%.2f\t%s\n", $4, $2, ($8 - $4) / 1.164, text }' |
        sort -t $'\t' -k1,1g -k2,2g |
        awk -F'\t' -v below="${2:-1e9}" '
            $1 >= below { next }
            n && $1 - y > 2 { print pt "\t" line; n = 0 }
            !n { y = $1; pt = 0; line = "" }
            { line = line (n++ ? " " : "") $4; if ($3 > pt) pt = $3 }
            END { if (n) print pt "\t" line }'
}

# largest_pt P - the largest font size on page P, of the words the 18 pt
# test counts (at least as wide as tall: no rotated axis label).
largest_pt() {
    pdftotext -bbox -f "$1" -l "$1" "$DECK" - | awk -F'"' '/<word / {
            w = $6 - $2; h = $8 - $4; if (w >= h && h / 1.164 > max) max = h / 1.164
        } END { printf "%.1f\n", max }'
}

# assert_header P CLAIM TAKEAWAY NAME - page P opens with three lines:
# CLAIM, the largest text on the page; TAKEAWAY directly under it; NAME,
# the chart's name, in a smaller font than either; all in the top 172 pt
# (the plot starts below them).
assert_header() {
    local lines claim_pt take_pt name_pt top
    mapfile -t lines < <(text_lines "$1" 172)
    [[ ${#lines[@]} -eq 3 ]] || fail "page $1: ${#lines[@]} lines at the top, not 3: $(printf '[%s] ' "${lines[@]}")"
    [[ ${lines[0]#*$'\t'} == "$2" ]] || fail "page $1: the title is '${lines[0]#*$'\t'}', not the claim '$2'"
    [[ ${lines[1]#*$'\t'} == "$3" ]] || fail "page $1: under the title is '${lines[1]#*$'\t'}', not '$3'"
    [[ ${lines[2]#*$'\t'} == "$4" ]] || fail "page $1: the subtitle is '${lines[2]#*$'\t'}', not '$4'"
    claim_pt=${lines[0]%%$'\t'*} take_pt=${lines[1]%%$'\t'*} name_pt=${lines[2]%%$'\t'*}
    top=$(largest_pt "$1")
    awk -v c="$claim_pt" -v t="$take_pt" -v n="$name_pt" -v top="$top" \
        'BEGIN { exit !(c >= top - 0.1 && c > t && t > n) }' ||
        fail "page $1: the claim at $claim_pt pt, the takeaway $take_pt, the name $name_pt, the largest text $top"
}

# --- the deck ----------------------------------------------------------------

@test "make slides writes slides.pdf: a title page, how to read, two pages per lab (three with a twin), a closing page" {
    skip_without_deck
    [ -s "$DECK" ] || fail "no $DECK"
    local labs pages hunts=0 n twins=0
    labs=$(lab_numbers | grep -c .)
    for n in $(lab_numbers); do [[ ! -e $SLIDES_OUT/lab$n/node-lab.meta ]] || twins=$((twins + 1)); done
    pages=$(pdf_pages "$DECK")
    (( labs >= 1 )) || fail "leaklab list found no labs"
    # A lab whose showcase make hunted (lab 7) has a third page: its table.
    for n in $(lab_numbers); do
        [[ ! -e $SLIDES_OUT/lab$n/$(describe_value "$n" showcase)-hunt.tsv ]] || hunts=$((hunts + 1))
    done
    (( pages == 3 + 2 * labs + twins + hunts )) ||
        fail "$pages pages for $labs labs, $twins with a twin, $hunts hunts; expected $(( 3 + 2 * labs + twins + hunts ))"
}

@test "the slides show the frequent hunt's table: session_new first, marked leak?" {
    skip_without_deck
    [[ -e $SLIDES_OUT/lab7/frequent-hunt.tsv ]] || skip "no lab 7 in this deck"
    local text
    text=$(pdftotext -layout "$DECK" - | grep -A20 'frequent, heap snapshots compared')
    [[ $text == *"session_new"*"leak?"* ]] || fail "no hunt table page: $text"
    [[ $(grep -m1 -E '^ *[a-z_(]' <<<"$(sed -n '/^ *site/,$p' <<<"$text" | sed 1d)") == *session_new* ]] ||
        fail "session_new is not the table's first row: $text"
}

@test "every page of the deck is 16:9" {
    skip_without_deck
    local pages bad
    pages=$(pdf_pages "$DECK")
    bad=$(pdfinfo -f 1 -l "$pages" "$DECK" |
        awk '/^Page +[0-9]+ size:/ { n++; w = $4; h = $6
                                     if (w * 9 < h * 16 - 9 || w * 9 > h * 16 + 9) print $2 ": " w " x " h }
             END { if (n == 0) print "no page sizes" }')
    [[ -z $bad ]] || fail "pages not 16:9: $bad"
}

@test "the smallest text on any slide is at least 18 pt on a 1280x720 page" {
    skip_without_deck
    run pdfinfo "$DECK"
    assert_line --regexp '^Page size: +1280 x 720 pts'
    # pdftotext -bbox gives each word's box in pt. DejaVu Sans boxes are
    # 1.164 em tall (ascent 0.928 + descent 0.236), so a word's font size
    # is its box height / 1.164. Only words at least as wide as they are
    # tall count: a word drawn rotated (a y label) is taller than wide,
    # and so is a narrow one ("1"), whose label has wider words anyway.
    local smallest
    smallest=$(pdftotext -bbox "$DECK" - | awk -F'"' '/<word / {
            w = $6 - $2; h = $8 - $4; text = $9; sub(/^>/, "", text); sub(/<.*/, "", text)
            if (w < h) next
            pt = h / 1.164
            if (min == "" || pt < min) { min = pt; which = text }
        } END { printf "%.1f %s\n", min, which }')
    awk -v s="${smallest%% *}" 'BEGIN { exit !(s >= 18) }' ||
        fail "the smallest word on the slides is ${smallest#* } at ${smallest%% *} pt"
}

@test "the title page names the suite and every lab" {
    skip_without_deck
    local text n
    text=$(pdftotext -layout -f 1 -l 1 "$DECK" - | sed 's/^ *//')
    [[ $text == *"Leak & Limit Labs"* ]] || fail "no title on page 1: $text"
    for n in $(lab_numbers); do
        grep -qE "^Lab $n +$(describe_value "$n" title)\$" <<<"$text" ||
            fail "page 1 does not list lab $n: $text"
    done
}

@test "the title page is black and grey text: nothing coloured like a link" {
    skip_without_deck
    local ppm=$BATS_TEST_TMPDIR/title.ppm header coloured
    pdftoppm -r 20 -f 1 -l 1 -singlefile "$DECK" "${ppm%.ppm}"
    # A binary PPM: three header lines (P6, width height, 255), then RGB.
    header=$(head -n 3 "$ppm" | wc -c)
    # Antialiased black and grey text is grey (R = G = B); a pixel whose
    # channels differ by more than 60 has a colour (the old deck's blue
    # lab lines: #0072B2).
    coloured=$(od -An -v -tu1 -j "$header" "$ppm" | awk '
        { for (i = 1; i <= NF; i++) { c[k++ % 3] = $i
              if (k % 3 == 0) { hi = c[0]; lo = c[0]
                  for (j = 1; j < 3; j++) { if (c[j] > hi) hi = c[j]; if (c[j] < lo) lo = c[j] }
                  if (hi - lo > 60) n++ } } }
        END { print n + 0 }')
    [[ $coloured -eq 0 ]] || fail "page 1 has $coloured coloured pixels at 20 dpi"
}

@test "page 2 shows how to read a chart on a real run: axes, three lines, cap, end" {
    skip_without_deck
    local text meta=$SLIDES_OUT/lab2/lazy.meta cap_mib kind word
    text=$(page_text 2)
    [[ $(text_lines 2 | head -n 1) == *$'\t'"How to read every chart" ]] ||
        fail "page 2 is not titled 'How to read every chart': $(text_lines 2 | head -n 1)"
    for word in "x: iteration" "y: memory (MiB)" rss heap_total heap_used "the cap" "the end ×"; do
        [[ $text == *"$word"* ]] || fail "page 2 has no callout for '$word': $text"
    done
    # The run is lab 2's lazy, and what the page says of it is what its
    # records say: its cap and how it ended.
    [[ $text == *"Lab 2: $(describe_value 2 title) - lazy"* ]] || fail "page 2 names no run: $text"
    cap_mib=$(awk -F= '$1 == "cap_bytes" { printf "%.0f", $2 / 1048576 }' "$meta")
    kind=$(sed -n 's/^cap_kind=//p' "$meta")
    [[ $text == *"cap $cap_mib MiB ($kind)"* ]] || fail "page 2 lacks lazy's cap, $cap_mib MiB ($kind): $text"
    [[ $text == *"$(sed -n 's/^verdict=//p' "$meta")"* ]] || fail "page 2 lacks lazy's verdict: $text"
}

@test "each lab's pages are titled with its claim, the takeaway under it, the chart's name small" {
    skip_without_deck
    local i=0 n title claim mode
    for n in $(lab_numbers); do
        i=$((i + 1))
        title=$(describe_value "$n" title) claim=$(describe_value "$n" claim)
        mode=$(describe_value "$n" showcase)
        [[ -n $claim ]] || fail "lab $n --describe has no claim"
        assert_header "$(showcase_page $i)" "$claim" "$(describe_value "$n" "caption.$mode")" \
            "Lab $n: $title - $mode"
        # A lab that names comparison columns (compare=) says so too.
        local also
        also=$(describe_value "$n" compare | sed 's/_kib//g; s/,/ /g')
        assert_header "$(compare_page $i)" "$claim" "$(describe_value "$n" takeaway)" \
            "Lab $n: $title - rss of every mode${also:+, and $also}"
    done
}

@test "the closing page gives every lab's leak, fix and tool on one line, and points to LESSONS.md" {
    skip_without_deck
    local last n text
    last=$(pdf_pages "$DECK")
    text=$(pdftotext -layout -f "$last" -l "$last" "$DECK" -)
    for n in $(lab_numbers); do
        # "Lab N", the leak, an arrow, the fix, an arrow, the tool: in that
        # order on one line.
        LAB="Lab $n" LEAK=$(describe_value "$n" recap.leak) FIX=$(describe_value "$n" recap.fix) \
        TOOL=$(describe_value "$n" recap.tool) awk '
            function after(s, what,    i) { i = index(s, what); return i ? substr(s, i + length(what)) : "" }
            { sub(/^ +/, "") }
            index($0, ENVIRON["LAB"] " ") == 1 {
                s = after($0, ENVIRON["LAB"]); s = after(s, ENVIRON["LEAK"]); s = after(s, "→")
                s = after(s, ENVIRON["FIX"]); s = after(s, "→")
                if (index(s, ENVIRON["TOOL"])) found = 1
            }
            END { exit !found }' <<<"$text" ||
            fail "the last page has no line 'Lab $n  leak → fix → tool': $text"
        [[ -n $(describe_value "$n" recap.tool) ]] || fail "lab $n --describe has no recap"
    done
    [[ $text == *"LESSONS.md"* ]] || fail "the last page does not point to LESSONS.md: $text"
    [ -s "$LEAKLAB_ROOT/LESSONS.md" ]
}

@test "no text on any slide runs off the page" {
    skip_without_deck
    local off
    off=$(pdftotext -bbox "$DECK" - | awk -F'"' '/<word / {
            text = $9; sub(/^>/, "", text); sub(/<.*/, "", text)
            if ($2 < 0 || $4 < 0 || $6 > 1280 || $8 > 720) print text " (" $2 "," $4 " to " $6 "," $8 ")"
        }')
    [[ -z $off ]] || fail "words off the page: $off"
}

@test "lab 2's showcase is the run that tells its story: kill or lazy, not budget" {
    run describe_value 2 showcase
    assert_success
    assert_output --regexp '^(kill|lazy)$'
}

@test "each lab's comparison page has its title and its takeaway caption" {
    skip_without_deck
    local i=0 page n text
    for n in $(lab_numbers); do
        i=$((i + 1)) page=$(compare_page $i)
        text=$(page_text "$page")
        [[ $text == *"Lab $n: $(describe_value "$n" title) - rss of every mode"* ]] ||
            fail "page $page is not lab $n's comparison: $text"
        [[ $text == *"$(describe_value "$n" takeaway)"* ]] ||
            fail "page $page lacks lab $n's takeaway: $text"
    done
}

@test "each lab's showcase page shows its cap, how the run ended, and its caption" {
    skip_without_deck
    local i=0 page n mode text wall
    for n in $(lab_numbers); do
        i=$((i + 1)) page=$(showcase_page $i)
        mode=$(describe_value "$n" showcase)
        text=$(page_text $page)
        [[ $text == *"Lab $n: $(describe_value "$n" title) - $mode"* ]] ||
            fail "page $page is not lab $n's $mode run: $text"
        [[ $text == *"$(describe_value "$n" "caption.$mode")"* ]] ||
            fail "page $page lacks the caption of $mode: $text"
        [[ $text =~ (rlimit|kill)\ cap\ [0-9]+\ MiB|cap\ [0-9]+\ MiB\ \((rlimit|kill)\)|heap\ budget\ [0-9]+\ MiB|no\ cap ]] ||
            fail "page $page names no wall (a cap or a budget): $text"
        wall=$(describe_value "$n" "wall.$mode")
        [[ $text =~ finished|killed:|timeout:|crashed:|limit:\ exit\ 3 ||
           ( -n $wall && $text == *"$wall"* ) ]] ||
            fail "page $page has no verdict marker: $text"
    done
}

# --- the charts behind it ----------------------------------------------------

@test "every lab's compare.png is 1920x1080" {
    skip_without_deck
    local n
    for n in $(lab_numbers); do
        assert_png_size "$SLIDES_OUT/lab$n/compare.png" 1920 1080
    done
}

@test "every chart is also a well-formed SVG" {
    skip_without_deck
    local svgs
    svgs=$(ls "$SLIDES_OUT"/lab*/*.svg)
    (( $(grep -c . <<<"$svgs") >= 2 * $(lab_numbers | grep -c .) )) ||
        fail "too few SVGs: $svgs"
    run xmllint --noout $svgs
    assert_success
}

@test "every chart's x axis says what a row is: an iteration, or the lab's own unit" {
    skip_without_deck
    local n want svg
    for n in $(lab_numbers); do
        want=$(describe_value "$n" xlabel)
        for svg in "$SLIDES_OUT/lab$n"/*.svg; do
            [[ $svg != *-hunt.svg ]] || continue   # a row per site, not per iteration
            grep -qF ">${want:-iteration}<" "$svg" ||
                fail "$svg: no x axis named '${want:-iteration}'"
        done
    done
    assert_equal "$(describe_value 5 xlabel)" "row (one per MiB of the file)"
}

# --- make massif: a second witness -------------------------------------------

# Massif's heap (requested bytes + its estimate of malloc's overhead) and
# the probe's heap_used (mallinfo2) agree within 1% + 64 KiB at every
# iteration of lab 1's retain mode. What they still differ by is page
# granularity: each 1 MiB context is its own mmap'd chunk, rounded up to
# whole pages (4 KiB of 1028, 0.4%), which massif does not count.
@test "massif and the probe agree on lab 1 retain within 1% + 64 KiB every iteration" {
    skip_if_sanitized "Valgrind cannot run a sanitizer build"
    local out=$BATS_TEST_TMPDIR/out
    run "$LEAKLAB_ROOT/plots/massif.sh" 1 retain "$out" -- --iterations 20 --size 1M
    assert_success
    local probe=$out/lab1/retain.tsv massif=$out/lab1/retain-massif.tsv
    [ "$(tsv_rows "$massif")" -eq 21 ] || fail "$(tsv_rows "$massif") snapshots for 21 samples"
    run awk -F'\t' '
        FNR == 1 { hdr = 0 }
        /^#/ { next }
        !hdr { for (i = 1; i <= NF; i++) col[FILENAME, $i] = i; hdr = 1; next }
        FILENAME == ARGV[1] { used[$col[FILENAME, "iter"]] = $col[FILENAME, "heap_used_kib"]; next }
        {
            k = $col[FILENAME, "iter"]; n++
            m = ($col[FILENAME, "mem_heap_B"] + $col[FILENAME, "mem_heap_extra_B"]) / 1024
            d = used[k] - m; if (d < 0) d = -d
            if (!(k in used) || d > used[k] / 100 + 64)
                printf "iteration %d: probe %d KiB, massif %d KiB\n", k, used[k], m
        }
        END { if (n != 21) print n " rows compared" }' "$probe" "$massif"
    assert_success
    assert_output ""
    # ... and they do see the leak: 20 contexts of 1 MiB.
    assert_growth_at_least "$probe" heap_used_kib $(( 20 * 1024 ))
}

@test "massif's chart is written as a 1920x1080 PNG and a well-formed SVG" {
    skip_if_sanitized "Valgrind cannot run a sanitizer build"
    local out=$BATS_TEST_TMPDIR/out
    run "$LEAKLAB_ROOT/plots/massif.sh" 1 release "$out" -- --iterations 5 --size 64K
    assert_success
    assert_png_size "$out/lab1/release-massif.png" 1920 1080
    run xmllint --noout "$out/lab1/release-massif.svg"
    assert_success
}

@test "massif.sh refuses a mode the lab does not have, naming it" {
    run --separate-stderr "$LEAKLAB_ROOT/plots/massif.sh" 1 nosuchmode "$BATS_TEST_TMPDIR/out"
    assert_failure 2
    [[ $stderr == *"'nosuchmode'"* ]] || fail "stderr: $stderr"
}

# LESSONS.md, "Finding what grows": the probe asks memcheck at every
# sample what grew since the last check, as vgdb would from outside.
@test "memcheck via LEAKLAB_VG_MONITOR: retain's reachable bytes grow by one context per iteration" {
    skip_if_sanitized "Valgrind cannot run a sanitizer build"
    local log=$BATS_TEST_TMPDIR/increased.log
    LEAKLAB_VG_MONITOR='leak_check summary reachable increased' \
        run valgrind --log-file="$log" "$BUILD/lab1" --quiet --mode retain --iterations 3 --size 64K
    assert_success
    run grep -o 'still reachable: [0-9,]* (+[0-9,]*) bytes in [0-9]* (+[0-9]*) blocks' "$log"
    assert_output "still reachable: 65,808 (+65,808) bytes in 2 (+2) blocks
still reachable: 131,360 (+65,552) bytes in 3 (+1) blocks
still reachable: 196,912 (+65,552) bytes in 4 (+1) blocks"
}

# --- LeakSanitizer: a third instrument ---------------------------------------

# LESSONS.md shows these reports. LeakSanitizer, like memcheck, looks at
# the end of the run; unlike memcheck it reports only what is unreachable,
# so retain (everything still reachable from the global table) passes.
@test "LeakSanitizer reports lose's contexts as a direct leak and nothing for retain" {
    local lsan=$BATS_TEST_TMPDIR/lab1-lsan
    clang -std=c11 -O1 -g -fno-omit-frame-pointer -fsanitize=leak -o "$lsan" \
        "$LEAKLAB_ROOT/labs/lab1-closure.c" "$LEAKLAB_ROOT/harness/lab.c" \
        "$LEAKLAB_ROOT/harness/probe.c"
    run --separate-stderr "$lsan" --quiet --mode lose --iterations 5 --size 64K
    assert_failure 23
    [[ $stderr == *"Direct leak of 262208 byte(s) in 4 object(s)"* ]] || fail "$stderr"
    run --separate-stderr "$lsan" --quiet --mode retain --iterations 5 --size 64K
    assert_success
    [[ -z $stderr ]] || fail "LeakSanitizer reported on retain: $stderr"
    # Without the globals as roots, retain's table is found too.
    LSAN_OPTIONS=use_globals=0 run --separate-stderr "$lsan" --quiet --mode retain --iterations 5 --size 64K
    [[ $stderr == *"Indirect leak of 327760 byte(s) in 5 object(s)"* ]] || fail "$stderr"
}

# --- the documents -----------------------------------------------------------

@test "LESSONS.md has a '## Lab N: title' chapter for every lab binary" {
    local n missing=""
    for n in $(lab_numbers); do
        grep -qx "## Lab $n: $(describe_value "$n" title)" "$LEAKLAB_ROOT/LESSONS.md" ||
            missing+=" lab$n"
    done
    [[ -z $missing ]] || fail "no chapter in LESSONS.md for:$missing"
}

@test "README.md opens with the committed example chart, 800x450" {
    assert_png_size "$LEAKLAB_ROOT/plots/example-lab1.png" 800 450
    local first
    first=$(grep -m1 -o '!\[[^]]*\]([^)]*)' "$LEAKLAB_ROOT/README.md")
    [[ $first == *"(plots/example-lab1.png)" ]] || fail "README's first image is $first"
}
