# shellcheck shell=bash
# lib.sh - what the chart scripts (plot.sh, slides.sh, massif.sh) share:
# reading records and writing gnuplot strings. Sourced, never run.
#
# Records are data. A value read here is printed, compared or checked,
# never evaluated: no eval, no bash arithmetic on it, no unquoted
# expansion, and no awk -v (which would read its backslashes as escapes).
# A number is checked to be one (is_uint, is_num) before anything uses it.
#
# Errors: a function that finds a record wrong prints one line on stderr,
# "SCRIPT: FILE: what is wrong", and returns 1; the script decides whether
# that ends it (die) or only that chart.

# The name errors start with: the script that sourced this file.
LIB_PROG=${0##*/}

# warn MESSAGE - one line on stderr, with the script's name.
warn() {
    printf '%s: %s\n' "$LIB_PROG" "$1" >&2
}

# die MESSAGE - warn, and exit 1 (a runtime failure).
die() {
    warn "$1"
    exit 1
}

# is_uint S - S is an unsigned decimal integer.
is_uint() {
    [[ $1 =~ ^[0-9]+$ ]]
}

# is_num S - S is a decimal number: digits, an optional sign and fraction.
is_num() {
    [[ $1 =~ ^-?[0-9]+(\.[0-9]+)?$ ]]
}

# chart_options text|notext "$@" - the options every chart script takes:
# --formats "png svg pdf small", --extra FILE (gnuplot loaded after the
# script's own settings: the slides' header), --top PX (a band kept free
# above the plot for it), --text where the first word is "text", and
# --help (the script's usage line on stdout, exit 0). Sets formats, fmts,
# extra (absolute), top, text and chart_dir (the one argument left, a
# directory); on a bad command line, calls usage, which the script
# defines, or exits 2 with one line naming what is wrong.
# shellcheck disable=SC2034  # text, top, fmts and chart_dir are the caller's
chart_options() {
    local text_ok=$1; shift
    text=0 formats="png svg" extra="" top=0
    while [[ $# -gt 0 && $1 == -* ]]; do
        case $1 in
            --help)    (usage) 2>&1 || true; exit 0 ;;   # usage exits 2
            --text)    [[ $text_ok == text ]] || { warn "unknown option '$1'"; exit 2; }
                       text=1; shift ;;
            --formats) [[ $# -gt 1 ]] || usage; formats=$2; shift 2 ;;
            --extra)   [[ $# -gt 1 ]] || usage; extra=$2; shift 2 ;;
            --top)     [[ $# -gt 1 ]] || usage; top=$2; shift 2 ;;
            --)        shift; break ;;
            *)         warn "unknown option '$1'"; exit 2 ;;
        esac
    done
    [[ $# -eq 1 ]] || usage
    [[ -d $1 ]] || { warn "'$1' is not a directory"; exit 2; }
    [[ $top =~ ^0*([0-9]{1,3})$ ]] && (( 10#${BASH_REMATCH[1]} < 700 )) ||
        { warn "--top: '$top' is not a whole number of pixels under 700"; exit 2; }
    top=$(( 10#${BASH_REMATCH[1]} ))    # 010 is ten, not octal eight
    read -ra fmts <<<"$formats"
    local f
    for f in "${fmts[@]}"; do
        [[ $f == @(png|svg|pdf|small) ]] ||
            { warn "--formats: '$f' is not one of png svg pdf small"; exit 2; }
    done
    [[ -z $extra || -r $extra ]] || { warn "--extra: cannot read '$extra'"; exit 2; }
    [[ -z $extra || $extra == /* ]] || extra=$PWD/$extra   # gnuplot runs a '<name'
    chart_dir=$1
}

# abs_dir DIR - DIR as an absolute path, kept whole even when its name
# ends in a newline (which $(...) would strip). gnuplot reads a file name
# that starts with '<' as a command to run: an absolute path never does.
abs_dir() {
    local d
    d=$(cd -- "$1" && pwd && echo .) || return 1
    printf '%s' "${d%$'\n.'}"
}

# --------------------------------------------------------------------------
# .meta files: one key=value a line
# --------------------------------------------------------------------------

# meta_get FILE KEY - prints KEY's value from FILE (the first KEY= line),
# with the escapes the runner writes undone: \\, \n, \t and \xHH. Returns
# 1, printing nothing, when FILE has no such key (or cannot be read).
meta_get() {
    [[ -r $1 ]] || return 1
    LIB_KEY=$2 LC_ALL=C awk '
        function unescape(s,    out, c, h, i) {
            out = ""
            while ((i = index(s, "\\")) > 0) {
                out = out substr(s, 1, i - 1); c = substr(s, i + 1, 1)
                if (c == "n") { out = out "\n"; s = substr(s, i + 2) }
                else if (c == "t") { out = out "\t"; s = substr(s, i + 2) }
                else if (c == "\\") { out = out "\\"; s = substr(s, i + 2) }
                else if (c == "x" && substr(s, i + 2, 2) ~ /^[0-9A-Fa-f][0-9A-Fa-f]$/ &&
                         (h = hex(substr(s, i + 2, 2))) > 0) {
                    out = out sprintf("%c", h); s = substr(s, i + 4)
                } else { out = out "\\"; s = substr(s, i + 1) }   # kept as is
            }
            return out s
        }
        function hex(s) {
            s = tolower(s)
            return 16 * (index("0123456789abcdef", substr(s, 1, 1)) - 1) + \
                   index("0123456789abcdef", substr(s, 2, 1)) - 1
        }
        (i = index($0, "=")) > 0 && unescape(substr($0, 1, i - 1)) == ENVIRON["LIB_KEY"] {
            printf "%s", unescape(substr($0, i + 1)); found = 1; exit
        }
        END { exit !found }' <"$1"
}

# meta_escape S - S with its backslashes and control characters escaped
# (\\, \n, \t, \xHH), as the runner writes a value into a record: one
# line, whatever S holds.
meta_escape() {
    LIB_S=$1 LC_ALL=C awk 'BEGIN {
        s = ENVIRON["LIB_S"]; out = ""
        for (i = 1; i <= length(s); i++) {
            c = substr(s, i, 1)
            if (c == "\\") out = out "\\\\"
            else if (c == "\n") out = out "\\n"
            else if (c == "\t") out = out "\\t"
            else if (c < " " || c == "\177") {
                for (n = 1; n < 128 && sprintf("%c", n) != c; n++) ;
                out = out sprintf("\\x%02x", n)
            } else out = out c
        }
        printf "%s", out }'
}

# meta_need FILE KEY - meta_get, but a missing key is an error: one line
# naming the file and the key.
meta_need() {
    meta_get "$1" "$2" && return 0
    if [[ -e $1 ]]; then
        warn "$1: no $2= line (a record from another version, or cut short?)"
    else
        warn "$1: missing (run the lab first)"
    fi
    return 1
}

# meta_uint FILE KEY - meta_need, checked to be an unsigned integer.
meta_uint() {
    local v
    v=$(meta_need "$1" "$2") || return 1
    is_uint "$v" || { warn "$1: $2=$v is not a number"; return 1; }
    printf '%s' "$v"
}

# --------------------------------------------------------------------------
# TSV records: '#' comment lines, a header row, then rows of numbers
# --------------------------------------------------------------------------

# tsv_check FILE [COLUMN...] - FILE is a whole record: a header that names
# iter and every COLUMN, at least one row, every row as many fields as the
# header, every field a number, iter a whole number, and a newline at the
# end (a row cut short has none). Otherwise one line says what is wrong.
tsv_check() {
    local file=$1 why; shift
    [[ -s $file ]] || { warn "$file: missing or empty"; return 1; }
    [[ $(tail -c 1 -- "$file" | od -An -c) == *'\n'* ]] ||
        { warn "$file: the last row is cut short (no newline at the end)"; return 1; }
    why=$(LC_ALL=C awk -F'\t' '
        BEGIN { for (i = 1; i < ARGC; i++) { want[ARGV[i]] = 1; delete ARGV[i] } want["iter"] = 1 }
        /^#/ { next }
        !hdr { n = NF; hdr = 1; for (i = 1; i <= NF; i++) col[$i] = i
               for (w in want) if (!(w in col)) bad("no column " w " in its header")
               next }
        NF != n { bad("line " NR " has " NF " fields, not " n) }
        {
            for (i = 1; i <= NF; i++)
                if ($i !~ /^-?[0-9]+(\.[0-9]+)?$/) bad("line " NR ", field " i ": not a number")
            if ($col["iter"] !~ /^[0-9]+$/) bad("line " NR ": iter is not a whole number")
            rows++
        }
        function bad(why) { print why; failed = 1; exit }
        END { if (!failed && !hdr) print "no header row"; else if (!failed && !rows) print "no rows to plot" }
    ' "$@" <"$file") || why="cannot be read"
    [[ -z $why ]] || { warn "$file: $why"; return 1; }
}

# tsv_comment FILE KEY - the value of the '# KEY=value' comment line above
# FILE's header (the first one). Returns 1, printing nothing, when there
# is none.
tsv_comment() {
    LIB_KEY=$2 LC_ALL=C awk '
        !/^#/ { exit }
        index($0, "# " ENVIRON["LIB_KEY"] "=") == 1 {
            printf "%s", substr($0, length(ENVIRON["LIB_KEY"]) + 4); found = 1; exit
        }
        END { exit !found }' <"$1"
}

# tsv_header FILE - the header's column names, one a line.
tsv_header() {
    LC_ALL=C awk '!/^#/ { gsub(/\t/, "\n"); print; exit }' <"$1"
}

# tsv_columns FILE COLUMN... - the named columns of every row, in that
# order, tab-separated: how a script finds a column by its name. Fails
# with one line if the header lacks one.
tsv_columns() {
    local file=$1; shift
    LIB_WHERE="$LIB_PROG: $file" LC_ALL=C awk -F'\t' -v OFS='\t' '
        BEGIN { for (i = 1; i < ARGC; i++) { want[i] = ARGV[i]; delete ARGV[i] } n = ARGC - 1 }
        /^#/ { next }
        !hdr { for (i = 1; i <= NF; i++) col[$i] = i
               for (i = 1; i <= n; i++)
                   if (!(want[i] in col)) {
                       print ENVIRON["LIB_WHERE"] ": no column " want[i] > "/dev/stderr"; exit 1
                   }
               hdr = 1; next }
        { line = $col[want[1]]; for (i = 2; i <= n; i++) line = line OFS $col[want[i]]; print line }
    ' "$@" <"$file"
}

# calc EXPR - an awk expression over numbers the script computed (never
# a record's text: every number has passed is_num or is_uint first).
calc() {
    awk "BEGIN { print ($1) }"
}

# max2 A B - the larger of two such numbers.
max2() {
    calc "$1 > $2 ? $1 : $2"
}

# col_stats FILE COLUMN... - of a TSV that tsv_check passed: "rows
# last_iter last_rss_kib" on one line, then "min max" of each COLUMN.
col_stats() {
    local file=$1; shift
    tsv_columns "$file" iter rss_kib "$@" | LC_ALL=C awk -F'\t' '
        { rows++; last = $1; rss = $2
          for (i = 3; i <= NF; i++) {
              if (rows == 1 || $i + 0 < lo[i]) lo[i] = $i + 0
              if (rows == 1 || $i + 0 > hi[i]) hi[i] = $i + 0
          }
          n = NF }
        END { printf "%d %s %s\n", rows, last, rss
              for (i = 3; i <= n; i++) printf "%.17g %.17g\n", lo[i], hi[i] }'
}

# is_mode_file S - S can name a mode's records, DIR/S.tsv and DIR/S.meta:
# not empty, no '/', and none of ".", ".." or "lab" (lab.meta is the lab's).
is_mode_file() {
    [[ -n $1 && $1 != */* && $1 != . && $1 != .. && $1 != lab ]]
}

# csv_list VALUE - the comma-separated VALUE (a meta's modes= or
# compare=) into the array `list`, each item whole, spaces and all.
# shellcheck disable=SC2034  # list is the caller's
csv_list() {
    list=()
    [[ -z $1 ]] || mapfile -d , -t list < <(printf '%s' "$1")
}

# is_column_name S - a name a lab may give a column: a C identifier. The
# gnuplot scripts take lists of them as words.
is_column_name() {
    [[ $1 =~ ^[A-Za-z_][A-Za-z0-9_]*$ ]]
}

# --------------------------------------------------------------------------
# gnuplot
# --------------------------------------------------------------------------

# gp_array NAME VALUE... - a gnuplot array of strings: "array NAME[n]"
# (at least one element: gnuplot refuses an empty one), then one line
# per element, each through gp_str.
gp_array() {
    local name=$1 i=0 v; shift
    echo "array ${name}[$(( $# > 0 ? $# : 1 ))]"
    for v in "$@"; do
        i=$((i + 1))
        echo "${name}[$i] = $(gp_str "$v")"
    done
}

# gp_str S - S as a gnuplot string expression: a single-quoted literal
# (where gnuplot expands neither `command` nor @macro; '' is a quote), with
# each control character (a newline would end the command) joined in as
# sprintf('%c', N). The text reaches the chart byte for byte.
gp_str() {
    local s=${1//\'/\'\'}
    if [[ $s != *[[:cntrl:]]* ]]; then
        printf "'%s'" "$s"
        return
    fi
    LIB_S=$s LC_ALL=C awk 'BEGIN {
        s = ENVIRON["LIB_S"]; out = "\047"
        for (i = 1; i <= length(s); i++) {
            c = substr(s, i, 1)
            if (c < " " || c == "\177") {
                for (n = 1; n < 128 && sprintf("%c", n) != c; n++) ;
                out = out "\047.sprintf(\047%c\047, " n ").\047"
            } else out = out c
        }
        printf "%s\047", out }'
}
