#!/usr/bin/env bash
# check.sh [OPTIONS] N - judges exercise N: `make check EX=N` runs it.
#
# Exercise N is labs/exercises/exN-NAME.c, built as build/exercises/exN-NAME
# (the reference fix: labs/exercises/solutions/, build/exercises/solutions/).
# The check:
#   1. writes the exercise's input, and the output a correct program makes
#      from it, worked out here with coreutils and awk, not by any exercise;
#   2. runs the program under the runner (build/leaklab run PATH), with
#      its cap, records in OUT/exercises/exN-NAME/ (--solution: OUT/
#      exercises/solutions/exN-NAME/), and the reference fix likewise;
#   3. judges two criteria, one line each, the measured value beside what
#      is wanted, then "pass" or "not yet":
#        output  the program's output file is byte for byte the expected
#        memory  a budget on rss, written as memray's limit_memory is: a
#                growth per row (least-squares slope over rows 1 on, from
#                the TSV) or a peak above the start (the higher of wait4's
#                peak, from the .meta, and the TSV's highest row, minus
#                the TSV's row 0: two readings of the kernel's batched
#                counter, LESSONS chapter 0), each with its number;
#   4. draws the run beside the reference fix's, with the budget:
#      RECORDS/check.png and .svg (plots/versus.sh), and in a terminal the
#      same chart as text.
#
# Options:
#   --solution      check the reference fix instead of the student's file
#   --program PATH  check another build of the exercise (a teacher's copy
#                   of a student's file, a test's do-nothing program);
#                   records in OUT/exercises/programs/NAME
#   --build DIR     where the binaries are (default: $LEAKLAB_BUILD, else
#                   build)
#   --out DIR       where records go (default out)
#   --text | --no-text   the text chart (default: when stdout is a terminal)
#   -h, --help      this text
#
# Exit: 0 every criterion passes; 1 not yet (or a program that is not
# built, or records that cannot be read: one line says which); 2 bad
# usage. Records are data: every value read from one is checked to be a
# number before awk does arithmetic with it; nothing is evaluated.
set -euo pipefail

root=$(cd "$(dirname -- "$0")/.." && pwd)
# shellcheck source=plots/lib.sh
. "$root/plots/lib.sh"

usage_error() {
    printf 'check.sh: %s\n' "$1" >&2
    exit 2
}

# --- the command line --------------------------------------------------------

build=${LEAKLAB_BUILD:-build} out=out which=mine program="" text=auto
while [[ $# -gt 0 ]]; do
    case $1 in
        --solution) which=solution; shift ;;
        --program)  [[ $# -ge 2 ]] || usage_error "option '--program' needs a value"
                    which=program program=$2; shift 2 ;;
        --build)    [[ $# -ge 2 ]] || usage_error "option '--build' needs a value"
                    build=$2; shift 2 ;;
        --out)      [[ $# -ge 2 ]] || usage_error "option '--out' needs a value"
                    out=$2; shift 2 ;;
        --text)     text=yes; shift ;;
        --no-text)  text=no; shift ;;
        -h|--help)  sed -n '2,/^set -euo/{/^set -euo/d;s/^# \{0,1\}//p}' "$0"; exit 0 ;;
        --)         shift; break ;;
        -*)         usage_error "unknown option '$1' (see --help)" ;;
        *)          break ;;
    esac
done
[[ $# -eq 1 ]] || usage_error "want one exercise number (usage: make check EX=N [SOLUTION=1])"
n=$1
srcs=()
if [[ $n =~ ^[0-9]+$ ]]; then
    for f in "$root"/labs/exercises/ex"$n"-*.c; do
        [[ -e $f ]] && srcs+=("$f")
    done
fi
[[ ${#srcs[@]} -eq 1 ]] ||
    usage_error "no exercise '$n': want one of $(cd "$root/labs/exercises" && ls ex[0-9]*-*.c | sed 's/^ex\([0-9]*\)-.*/\1/' | tr '\n' ' ')(make check EX=N)"
name=$(basename -- "${srcs[0]}" .c)
src=labs/exercises/$name.c

case $which in
    mine)     prog=$build/exercises/$name records=$out/exercises/$name ;;
    solution) prog=$build/exercises/solutions/$name records=$out/exercises/solutions/$name
              src=labs/exercises/solutions/$name.c ;;
    program)  prog=$program records=$out/exercises/programs/$(basename -- "$program")
              src=$program ;;
esac
[[ $prog == */* ]] || prog=./$prog   # the runner takes a path by its '/'
reference=$build/exercises/solutions/$name
for p in "$build/leaklab" "$prog"; do
    [[ -x $p && -f $p ]] || die "$p: not built (make build, or make check EX=$n)"
done
# A copy handed out without labs/exercises/solutions/ has no reference
# fix to draw: the chart shows the run alone.
[[ -x $reference && -f $reference ]] || reference=""
if [[ $text == auto ]]; then
    if [[ -t 1 ]]; then text=yes; else text=no; fi
fi

# --- each exercise: its input, the expected output, its budget ----------------
#
# inputs DIR  writes the input to DIR and the expected output to
#             DIR/$name.expected; sets args (the program's arguments,
#             OUTPUT named by the placeholder @OUTPUT@), what (the output,
#             in words), outname (its file name in the records), unit
#             (what a row is), kind (growth or peak) and budget (KiB).

# ex1: 200 requests with 16 to 48 KiB bodies; the access log awk writes.
inputs_1() {
    awk 'BEGIN {
        n = split("GET / GET /health GET /api/items POST /api/items POST /upload POST /login GET /admin POST /health", r, " ")
        s = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/"
        while (length(s) < 65536) s = s s
        x = 12345
        for (i = 1; i <= 200; i++) {
            x = (x * 69069 + 1) % 4294967296; k = int(x / 65536) % (n / 2)
            x = (x * 69069 + 1) % 4294967296; len = 16384 + int(x / 65536) % 32768
            printf "%d %s %s %s\n", i, r[2 * k + 1], r[2 * k + 2], substr(s, 1 + i % 64, len)
        }
    }' >"$1/$name.requests"
    awk 'BEGIN { st["GET /"] = 200; st["GET /health"] = 200; st["GET /api/items"] = 200
                 st["POST /api/items"] = 201; st["POST /upload"] = 201; st["POST /login"] = 200 }
         { k = $2 " " $3; print $1, $2, $3, (k in st ? st[k] : 404), length($4) }' \
        "$1/$name.requests" >"$1/$name.expected"
    args=("$1/$name.requests" @OUTPUT@)
    what="access log" outname=access.log unit=request kind=growth budget=4
}

# ex2: an access log of 20000 lines; its index, counted by awk, sorted.
inputs_2() {
    awk 'BEGIN {
        np = split("/ /index.html /api/items /api/items/42 /api/users /login /static/app.js /static/app.css /favicon.ico /health", p, " ")
        ns = split("200 200 200 200 200 304 404 500 301 200", st, " ")
        nu = split("curl/8.0|Mozilla/5.0 (X11; Linux x86_64) Firefox/115.0|Go-http-client/1.1", ua, "|")
        x = 4242
        for (i = 1; i <= 20000; i++) {
            x = (x * 69069 + 1) % 4294967296; a = int(x / 65536)
            x = (x * 69069 + 1) % 4294967296; b = int(x / 65536)
            path = p[1 + a % np]; status = st[1 + b % ns]
            method = (path == "/login" && b % 3 == 0) ? "POST" : "GET"
            printf "10.0.%d.%d - - [12/Mar/2024:10:%02d:%02d +0000] \"%s %s HTTP/1.1\" %s %d \"-\" \"%s\"\n",
                a % 256, b % 256, int(i / 60) % 60, i % 60, method, path, status,
                (status == "304" ? 0 : a % 50000), ua[1 + (a + b) % nu]
        }
    }' >"$1/$name.log"
    awk '{ k = $7 " " $9; n[k]++; b[k] += $10 } END { for (k in n) print k, n[k], b[k] }' \
        "$1/$name.log" | LC_ALL=C sort >"$1/$name.expected"
    args=("$1/$name.log" @OUTPUT@)
    what=index outname=index.txt unit="1000 lines" kind=growth budget=16
}

# ex3: 4 MiB of lowercase text (64 blocks); what tr makes of it.
inputs_3() {
    awk 'BEGIN {
        nw = split("the quick brown fox jumps over a lazy dog while memory leaks grow and buffers map pages; ", w, " ")
        x = 777
        while (size < 4194304) {
            line = ""
            for (k = 0; k < 12; k++) { x = (x * 69069 + 1) % 4294967296; line = line w[1 + int(x / 65536) % nw] " " }
            line = line "Line " ++i ", 0-9 and UTF-8: \303\251t\303\251."
            print line; size += length(line) + 1
        }
    }' >"$1/$name.txt"
    truncate -s 4M -- "$1/$name.txt"
    LC_ALL=C tr a-z A-Z <"$1/$name.txt" >"$1/$name.expected"
    args=("$1/$name.txt" @OUTPUT@)
    what="uppercase copy" outname=upper.txt unit=block kind=growth budget=8
}

# ex4: a 16 MiB log (256 batches); shipped, it is the same file.
inputs_4() {
    awk 'BEGIN {
        nl = split("INFO WARN INFO DEBUG ERROR INFO", lv, " ")
        x = 99
        while (size < 16777216) {
            x = (x * 69069 + 1) % 4294967296
            line = sprintf("2024-03-12T10:%02d:%02d.%03dZ %s worker-%d request %d done in %d ms",
                           int(++i / 60000) % 60, int(i / 1000) % 60, i % 1000,
                           lv[1 + int(x / 65536) % nl], int(x / 65536) % 16, i, int(x / 16) % 5000)
            print line; size += length(line) + 1
        }
    }' >"$1/$name.log"
    truncate -s 16M -- "$1/$name.log"
    cp -- "$1/$name.log" "$1/$name.expected"
    args=("$1/$name.log" @OUTPUT@)
    what="shipped log" outname=shipped.log unit=tick kind=peak budget=2048
}

# ex5: five files, 0 bytes to 8 MiB, text and binary, one name with a
# space; the manifest cksum prints for them.
inputs_5() {
    local d=$1/$name
    mkdir -p -- "$d"
    : >"$d/empty"
    printf 'a letter, a few lines long.\nDear reader,\n' >"$d/letter.txt"
    seq -f 'line %.0f of a log that is long enough to need streaming' 1 200000 >"$d/big.log"
    truncate -s 8M -- "$d/big.log"
    head -c 3145733 /dev/urandom >"$d/disk image.bin"    # 3 MiB + 5, every byte value
    seq 1 100000 >"$d/numbers"
    args=(@OUTPUT@ "$d/empty" "$d/letter.txt" "$d/big.log" "$d/disk image.bin" "$d/numbers")
    cksum -- "${args[@]:1}" >"$1/$name.expected"
    what=manifest outname=manifest unit="MiB read" kind=peak budget=2048
}

# ex6: 20000 quote requests; the first 400 bring 400 products, then one
# request in eight a new one, the rest skewed toward the oldest (hot)
# products. The quotes awk works out from each product's price sheet.
inputs_6() {
    awk 'BEGIN {
        x = 6060
        for (i = 1; i <= 20000; i++) {
            x = (x * 69069 + 1) % 4294967296
            if (n < 400 || int(x / 65536) % 8 == 0) id = ++n
            else { x = (x * 69069 + 1) % 4294967296; u = int(x / 65536) / 65536; id = 1 + int(n * u * u * u) }
            x = (x * 69069 + 1) % 4294967296
            printf "sku-%06d %d\n", id, 1 + int(x / 65536) % 600
        }
    }' >"$1/$name.requests"
    awk '{ id = substr($1, 5) + 0; q = $2; base = (id * 7919) % 90000 + 1000
           u = base - int(base * (q < 512 ? q : 511) / 2048); t = u * q
           printf "%s %d %d.%02d %d.%02d\n", $1, q, int(u / 100), u % 100, int(t / 100), t % 100 }' \
        "$1/$name.requests" >"$1/$name.expected"
    args=("$1/$name.requests" @OUTPUT@)
    what=quotes outname=quotes.txt unit="1000 requests" kind=growth budget=64
}

# ex7: 20000 requests: logins (one in eight with a wrong password),
# pages and logouts of recent sessions. The replies awk works out, with
# sessions that end at logout or TTL (300) requests after login, and
# the shutdown report.
inputs_7() {
    awk 'BEGIN {
        x = 7070
        for (i = 1; i <= 20000; i++) {
            x = (x * 69069 + 1) % 4294967296; r = int(x / 65536) % 10
            x = (x * 69069 + 1) % 4294967296; a = int(x / 65536)
            if (r < 3 || n == 0) {
                x = (x * 69069 + 1) % 4294967296; ok = int(x / 65536) % 8 != 0
                printf "login u%d %s\n", 1 + a % 300, ok ? "open-sesame" : "let-me-in"
                n += ok
            } else if (r == 3) {
                s = n - a % 20; printf "logout %d\n", s < 1 ? 1 : s
            } else {
                s = n - a % 100; printf "page %d\n", s < 1 ? 1 : s
            }
        }
    }' >"$1/$name.requests"
    awk 'BEGIN { longest = -1 }
         { i = NR; live = ($2 in user) && !(($2) in gone) && i - born[$2] < 300 }
         $1 == "login" && $3 != "open-sesame" { print "403 login " $2; next }
         $1 == "login" { n++; user[n] = $2; born[n] = i; print "200 login " $2 " sid=" n; next }
         $1 == "page" { print (live ? "200 hello " user[$2] : "401 page " $2); next }
         $1 == "logout" && !live { print "401 logout " $2; next }
         $1 == "logout" { print "200 bye " user[$2]; gone[$2] = 1; logouts++
                          if (i - born[$2] > longest) { longest = i - born[$2]; who = user[$2] } }
         END { if (logouts) printf "logouts %d, longest session %d requests (%s)\n", logouts, longest, who
               else print "logouts 0" }' \
        "$1/$name.requests" >"$1/$name.expected"
    args=("$1/$name.requests" @OUTPUT@)
    what=replies outname=replies.txt unit="1000 requests" kind=growth budget=64
}

# --- running one program --------------------------------------------------------

# run_program PATH RECORDS OUTPUT - PATH under the runner, quiet, its records
# in RECORDS (the runner names the directory after the program, so the
# parent is its --out), writing OUTPUT. RECORDS is emptied first: nothing
# from an earlier run may be judged (a program that cannot even describe
# itself leaves no record at all). Sets rc (the runner's exit) and tsv,
# meta (the run's records).
run_program() {
    local prog=$1 recs=$2 output=$3 a mode parent
    local pargs=()
    for a in "${args[@]}"; do
        [[ $a == @OUTPUT@ ]] && pargs+=("$output") || pargs+=("$a")
    done
    parent=$(dirname -- "$recs")
    rm -rf -- "$recs"
    mkdir -p -- "$parent"
    rc=0
    "$build/leaklab" run "$prog" --quiet --out "$parent" -- "${pargs[@]}" >/dev/null || rc=$?
    if [[ $rc -eq 2 ]]; then
        die "$prog refused its arguments (exit 2; its message is above)"
    fi
    mode=$(meta_get "$recs/lab.meta" modes) || mode=""
    mode=${mode%%,*}
    tsv=$recs/$mode.tsv meta=$recs/$mode.meta
}

declare -F "inputs_$n" >/dev/null ||
    die "$src: no check for exercise $n in ${0##*/} (an inputs_$n function)"
inputs=$out/exercises/inputs
mkdir -p -- "$inputs"
"inputs_$n" "$inputs"
output=$records/$outname

run_program "$prog" "$records" "$output"
mine_tsv=$tsv mine_meta=$meta
ref_records=$out/exercises/solutions/$name
if [[ $which != solution && -n $reference ]]; then
    run_program "$reference" "$ref_records" "$ref_records/$outname"
    [[ $rc -eq 0 ]] || warn "the reference fix did not finish as it should (exit $rc): its chart may be missing"
fi

# --- judging ----------------------------------------------------------------------

# criterion NAME MEASURED WANTED VERDICT - one line of the report.
criterion() {
    printf '  %-7s %-44s %-42s %s\n' "$1" "$2" "$3" "$4"
}

# The run: how it ended.
verdict=$(meta_get "$mine_meta" verdict 2>/dev/null) || verdict=""
finished=no
[[ $verdict == finished ]] && finished=yes

# Output: byte for byte.
expected=$inputs/$name.expected
lines=$(wc -l <"$expected")
want="want: byte-exact, $lines lines"
out_ok="not yet"
if [[ $finished != yes ]]; then
    how=$(meta_get "$mine_meta" signal_name 2>/dev/null) ||
        how=$(meta_get "$mine_meta" exit_code 2>/dev/null | sed 's/^/exit /') || how=""
    got="the run did not finish: ${verdict:-no record}${how:+ ($how)}"
elif [[ ! -e $output ]]; then
    got="no $what written"
elif cmp -s -- "$expected" "$output"; then
    got="byte-exact, $lines lines" out_ok=pass
else
    # cmp's "differ: byte B, line L", or "EOF on FILE after byte B"
    at=$(cmp -- "$expected" "$output" 2>&1 | head -n 1 || true)
    if [[ $at =~ differ:\ byte\ ([0-9]+),\ line\ ([0-9]+) ]]; then
        got="differs at line ${BASH_REMATCH[2]}, byte ${BASH_REMATCH[1]}"
    elif [[ $at == *"EOF on $output"* ]]; then
        got="cut short: $(wc -l <"$output") of $lines lines"
    else
        got="longer than expected"
    fi
fi

# Memory: the budget.
mem_ok="not yet"
if [[ $kind == growth ]]; then
    want_mem="budget: at most $budget KiB per $unit"
else
    want_mem="budget: at most $(awk -v b="$budget" 'BEGIN { printf "%g", b / 1024 }') MiB above the start"
fi
measure=""
if tsv_check "$mine_tsv" rss_kib 2>/dev/null; then
    if [[ $kind == growth ]]; then
        # least-squares slope of rss over the rows from 1 on
        measure=$(tsv_columns "$mine_tsv" iter rss_kib | awk -F'\t' '
            $1 >= 1 { n++; sx += $1; sy += $2; sxx += $1 * $1; sxy += $1 * $2 }
            END { d = n * sxx - sx * sx; if (n >= 2 && d > 0) printf "%.1f\n", (n * sxy - sx * sy) / d }')
        mem_text="rss grows ${measure:-?} KiB per $unit"
    else
        peak=$(meta_get "$mine_meta" peak_rss_kib 2>/dev/null) || peak=0
        read -r start top < <(tsv_columns "$mine_tsv" rss_kib |
            awk 'NR == 1 { s = $1 } $1 > t { t = $1 } END { print s, t }')
        if is_uint "$peak" && is_uint "$start" && is_uint "$top"; then
            measure=$(awk -v p="$peak" -v t="$top" -v s="$start" \
                'BEGIN { printf "%.1f\n", (p > t ? p : t) - s }')
        fi
        mem_text="peak rss $(awk -v m="${measure:-0}" 'BEGIN { printf "%.2f", m / 1024 }') MiB above the start"
    fi
    [[ -n $measure ]] || mem_text="too few rows to measure"
else
    mem_text="no record of the run"
fi
if [[ -n $measure && $finished == yes ]] &&
   awk -v m="$measure" -v b="$budget" 'BEGIN { exit !(m <= b) }'; then
    mem_ok=pass
fi

# --- the report and the chart -------------------------------------------------------

title=$(meta_get "$records/lab.meta" title 2>/dev/null) || title="exercise $n"
echo "$title: $src"
criterion output "$got" "$want" "$out_ok"
criterion memory "$mem_text" "$want_mem" "$mem_ok"

chart_args=(--budget-"$kind" "$budget" --caption "$want_mem (dashed)")
label=yours
[[ $which == solution ]] && label="reference fix"
[[ $which == program ]] && label=$(basename -- "$program")
versus=("$records") beside=""
if [[ $which != solution && -n $reference ]]; then
    versus+=("reference fix" "$ref_records") beside=" beside the reference fix"
elif [[ $which != solution ]]; then
    beside=" (no reference fix in this copy: labs/exercises/solutions/)"
fi
if "$root/plots/versus.sh" "${chart_args[@]}" "$records/check" "$label" "${versus[@]}"; then
    echo "  chart   $records/check.png: $label$beside"
    if [[ $text == yes ]]; then
        "$root/plots/versus.sh" --text "${chart_args[@]}" "$records/check" "$label" "${versus[@]}" || true
    fi
else
    echo "  chart   could not be drawn (see above)"
fi

if [[ $out_ok == pass && $mem_ok == pass ]]; then
    echo "pass: exercise $n keeps its output and its budget"
    exit 0
fi
echo "not yet: the hints are in LESSONS.md, chapter \"Lab $n\", section \"Exercise\""
exit 1
