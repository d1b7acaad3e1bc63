#!/usr/bin/env bats
# The two documents a student skims: LESSONS.md (the textbook) and
# README.md (the manual). A student who has only cloned the repository, or
# downloaded it as an archive without .git, must see what they show:
# every image they reference is a file of the repository, no sample
# output carries a path from the machine it was made on, and every
# chapter of LESSONS opens with the same short box.
#
# Each check is a function over files, so that a second test can show it
# catching what it is meant to catch.

load test_helper

DOCS=(LESSONS.md README.md)

# --------------------------------------------------------------------------
# Images
# --------------------------------------------------------------------------

# image_refs FILE - every image FILE references, one a line: Markdown
# ![alt](ref "title") (or <ref>, which may hold spaces) and HTML
# <img src="ref">. The title and any #fragment or ?query are dropped.
image_refs() {
    {
        grep -oE '!\[[^]]*\]\([^)]*\)' -- "$1" | sed -E 's/^!\[[^]]*\]\(//; s/\)$//' |
            sed -E 's/^<([^>]*)>.*/\1/; t; s/[[:space:]].*//'
        grep -oiE '<img[^>]*[[:space:]]src=("[^"]*"|'"'"'[^'"'"']*'"'"'|[^[:space:]>]+)' -- "$1" |
            sed -E 's/.*[[:space:]][sS][rR][cC]=//; s/^["'"'"']//; s/["'"'"']$//'
    } | sed -E 's/[?#].*//'
}

# missing_images ROOT FILE... - prints "FILE: REF: why" for every image a
# FILE references that is not a file of the repository at ROOT: a URL, an
# absolute path, a path out of ROOT, a path under build/ or out/ (made by
# make, git-ignored: absent from a clone until someone runs make), no such
# file, or, when ROOT is the top of a git work tree, a file git does not
# track (it would not be in a clone). Without .git (an archive, or the copy
# fresh-clone.bats makes) the file checks alone apply. A REF is relative
# to ROOT, where LESSONS.md and README.md live. Prints nothing if all is
# well; its status is 0 either way.
missing_images() {
    local root file ref abs rel why git_top=""
    root=$(realpath -- "$1"); shift
    if command -v git >/dev/null; then
        git_top=$(git -C "$root" rev-parse --show-toplevel 2>/dev/null) || git_top=""
        [[ -n $git_top && $(realpath -- "$git_top") == "$root" ]] || git_top=""
    fi
    for file in "$@"; do
        while IFS= read -r ref; do
            abs=$(realpath -m -- "$root/$ref") rel=${abs#"$root"/} why=""
            if [[ -z $ref ]]; then
                why="an empty reference"
            elif [[ $ref =~ ^[A-Za-z][A-Za-z0-9+.-]*: || $ref == //* ]]; then
                why="a URL, not a file of the repository"
            elif [[ $ref == /* ]]; then
                why="an absolute path, not a file of the repository"
            elif [[ $abs != "$root"/* ]]; then
                why="outside the repository"
            elif [[ $rel == build/* || $rel == out/* ]]; then
                why="made by make (git-ignored): not there before make runs"
            elif [[ ! -f $abs ]]; then
                why="no such file"
            elif [[ -n $git_top ]] &&
                 ! git -C "$root" ls-files --error-unmatch -- "$rel" >/dev/null 2>&1; then
                why="not tracked by git, so not in a clone"
            fi
            [[ -z $why ]] || printf '%s: %s: %s\n' "${file##*/}" "$ref" "$why"
        done < <(image_refs "$file")
    done
}

@test "every image LESSONS.md and README.md show is a file committed to the repository" {
    local refs
    refs=$(cd "$LEAKLAB_ROOT" && for f in "${DOCS[@]}"; do image_refs "$f"; done)
    [[ -n $refs ]] || fail "found no image at all: is image_refs broken?"
    run missing_images "$LEAKLAB_ROOT" "${DOCS[@]/#/$LEAKLAB_ROOT/}"
    assert_success
    [[ -z $output ]] || fail "$(printf 'images a fresh clone does not have:\n%s' "$output")"
}

@test "the image check flags a URL, a generated chart, a missing file and an untracked one" {
    local root=$BATS_TEST_TMPDIR/repo doc
    mkdir -p "$root/plots" "$root/out/lab1"
    doc=$root/DOC.md
    touch "$root/plots/good.png" "$root/plots/also good.png" "$root/plots/untracked.png" \
        "$root/out/lab1/compare.png"
    cat >"$doc" <<'EOF'
![fine](plots/good.png)
![fine, with a title](plots/good.png "a title") and ![fine](<plots/also good.png>)
<p><img alt="fine" src="plots/good.png#top" width="400"></p>
![remote](https://example.com/chart.png)
![generated](out/lab1/compare.png)
![missing](plots/no-such.png)
<img src='plots/no-such.svg'>
![absolute](/srv/leaklab/plots/good.png)
![escapes](../outside.png)
![untracked](plots/untracked.png)
EOF
    # Without .git (an archive): only the file checks apply.
    run missing_images "$root" "$doc"
    assert_success
    assert_output "DOC.md: https://example.com/chart.png: a URL, not a file of the repository
DOC.md: out/lab1/compare.png: made by make (git-ignored): not there before make runs
DOC.md: plots/no-such.png: no such file
DOC.md: /srv/leaklab/plots/good.png: an absolute path, not a file of the repository
DOC.md: ../outside.png: outside the repository
DOC.md: plots/no-such.svg: no such file"
    # In a git work tree, a file git does not track is flagged too.
    command -v git >/dev/null || skip "git is not installed: the untracked case needs it"
    git -C "$root" init -q
    git -C "$root" add plots/good.png "plots/also good.png"
    run missing_images "$root" "$doc"
    assert_success
    assert_line --index 5 "DOC.md: plots/untracked.png: not tracked by git, so not in a clone"
    [ "${#lines[@]}" -eq 7 ] || fail "expected 7 findings, got: $output"
}

# --------------------------------------------------------------------------
# Paths from the machine the output was made on
# --------------------------------------------------------------------------

# An absolute path in pasted output says where it was made, not where the
# student's clone is: a path from / that runs through one of this
# project's folders (build/, out/, labs/, harness/, plots/), or one under
# /work, /home or /root. A path starts after white space or punctuation,
# never inside a word, a relative path (out/lab1/) or a URL (https://).
MACHINE_PATH='(^|[^[:alnum:]_.~:/-])/(([^[:space:]/]+/)*(build|out|labs|harness|plots)/|(work|home|root)/)'

# machine_paths FILE... - prints "FILE:LINE:text" for every such line;
# status 0 if it found one, 1 if none, 2 on error (grep's).
machine_paths() {
    grep -nHE -- "$MACHINE_PATH" "$@"
}

@test "no sample output in LESSONS.md or README.md shows a path from the machine it was made on" {
    run machine_paths "${DOCS[@]/#/$LEAKLAB_ROOT/}"
    [ "$status" -eq 1 ] ||
        fail "$(printf 'show these paths relative to the repository:\n%s' "$output")"
}

@test "the path check flags pasted absolute paths and lets relative ones and URLs through" {
    local f=$BATS_TEST_TMPDIR/sample.md
    cat >"$f" <<'EOF'
argv=/work/wt/docs/build/lab2 --mode budget
      in /home/ann/leak-labs/build/lab1
    #0 0x5567 in __interceptor_malloc (/srv/clone/build/lab1-lsan+0x310f2)
massif: /opt/x/out/lab1/retain-massif.png (.svg)
    #1 0x5567 in make_context /srv/clone/labs/lab1-closure.c:172:31
cd /root/leaklab && make
    build/lab1 --mode retain; out/lab1/retain.tsv; labs/lab1-closure.c:172
see https://github.com/isaacs/node-lru-cache/build/ or ../out/lab1/compare.png
/proc/self/statm, /dev/full, /usr/libexec/valgrind/vgpreload_memcheck-amd64-linux.so
lab5: /tmp: Is a directory
EOF
    run machine_paths "$f"
    assert_success
    [ "${#lines[@]}" -eq 6 ] || fail "expected lines 1 to 6, got: $output"
    local i
    for i in 1 2 3 4 5 6; do
        assert_line --index $((i - 1)) --partial "$f:$i:"
    done
}

# --------------------------------------------------------------------------
# The box each chapter of LESSONS opens with
# --------------------------------------------------------------------------

# chapters_without_box FILE - prints "LINE: heading: why" for every '## '
# chapter of FILE (outside code fences) that does not open with the box:
# its first line after the heading "> [!NOTE]" (a GitHub alert), then
# exactly these four lines, each at most 120 characters (so that the box
# stays five lines on a projected page), then the end of the quote:
#   > - **You will see:** ...
#   > - **Why:** ...
#   > - **The fix:** ...
#   > - **The tool:** ...
chapters_without_box() {
    LC_ALL=C awk '
        function done_box(   i, why) {
            if (n != 4) why = "the box has " n " lines after [!NOTE], not 4"
            for (i = 1; i <= n && why == ""; i++) {
                if (box[i] !~ ("^> - \\*\\*" lead[i] ":\\*\\* [^ ]"))
                    why = "line " i " of the box does not start \"> - **" lead[i] ":** \""
                else if (length(box[i]) > 120)
                    why = "line " i " of the box is " length(box[i]) " characters, over 120"
            }
            if (why != "") printf "%d: %s: %s\n", at, head, why
            state = ""
        }
        BEGIN { lead[1] = "You will see"; lead[2] = "Why"; lead[3] = "The fix"; lead[4] = "The tool" }
        state == "box" && /^>/ { box[++n] = $0; next }
        state == "box" { done_box() }
        /^(```|~~~)/ { fence = !fence; next }
        fence { next }
        /^## / { head = $0; at = FNR; state = "wait"; next }
        state == "wait" && /^[[:space:]]*$/ { next }
        state == "wait" {
            if ($0 == "> [!NOTE]") { state = "box"; n = 0 }
            else { printf "%d: %s: does not open with a \"> [!NOTE]\" box\n", at, head; state = "" }
            next
        }
        END {
            if (state == "box") done_box()
            else if (state == "wait") printf "%d: %s: does not open with a \"> [!NOTE]\" box\n", at, head
        }' "$1"
}

@test "every chapter of LESSONS.md opens with a box: what you will see, why, the fix, the tool" {
    local chapters
    chapters=$(grep -c '^## ' "$LEAKLAB_ROOT/LESSONS.md")
    [ "$chapters" -ge 6 ] || fail "found only $chapters chapters in LESSONS.md"
    run chapters_without_box "$LEAKLAB_ROOT/LESSONS.md"
    assert_success
    [[ -z $output ]] || fail "$(printf 'chapters without their box:\n%s' "$output")"
}

@test "the box check flags a missing box, a missing line, a wrong lead and a line too long" {
    local f=$BATS_TEST_TMPDIR/chapters.md fits over
    fits=$(printf 'x%.0s' {1..102})     # "> - **The tool:** " and 102: 120 in all
    over=$(printf 'x%.0s' {1..99})      # "> - **You will see:** " and 99: 121
    cat >"$f" <<EOF
# Title

## Good

> [!NOTE]
> - **You will see:** a line.
> - **Why:** a reason.
> - **The fix:** a fix.
> - **The tool:** $fits

\`\`\`
## not a chapter: inside a code fence
\`\`\`

## No box

Text first.

## Three lines

> [!NOTE]
> - **You will see:** a line.
> - **Why:** a reason.
> - **The tool:** a tool.

## Wrong lead

> [!NOTE]
> - **You will see:** a line.
> - **Because:** a reason.
> - **The fix:** a fix.
> - **The tool:** a tool.

## Too long

> [!NOTE]
> - **You will see:** $over
> - **Why:** a reason.
> - **The fix:** a fix.
> - **The tool:** a tool.
EOF
    run chapters_without_box "$f"
    assert_success
    assert_output '15: ## No box: does not open with a "> [!NOTE]" box
19: ## Three lines: the box has 3 lines after [!NOTE], not 4
26: ## Wrong lead: line 2 of the box does not start "> - **Why:** "
34: ## Too long: line 1 of the box is 121 characters, over 120'
}

# --------------------------------------------------------------------------
# Source lines the pasted reports cite
# --------------------------------------------------------------------------

# cited_lines FILE - every stack frame a pasted report in FILE cites in a
# lab's source, one a line: "FUNCTION SOURCE LINE". Three forms:
# Valgrind's "by 0x...: FUNCTION (labN-name.c:LINE)", LeakSanitizer's
# "in FUNCTION labs/labN-name.c:LINE:COL", and heaptrack's FUNCTION alone
# on a line, then "at labs/labN-name.c:LINE" on the next.
cited_lines() {
    awk '
        function cite(s,   f) {
            f = s; sub(/[ (].*/, "", f)
            sub(/^[^ ]* \(?(labs\/)?/, "", s)
            split(s, p, ":")
            print f, p[1], p[2]
        }
        match($0, /[A-Za-z_][A-Za-z0-9_]* \((labs\/)?lab[0-9]+-[a-z0-9-]+\.c:[0-9]+/) {
            cite(substr($0, RSTART, RLENGTH))
        }
        match($0, / in [A-Za-z_][A-Za-z0-9_]* labs\/lab[0-9]+-[a-z0-9-]+\.c:[0-9]+/) {
            cite(substr($0, RSTART + 4, RLENGTH - 4))
        }
        /^ *at labs\/lab[0-9]+-[a-z0-9-]+\.c:[0-9]+$/ && prev ~ /^ *[A-Za-z_][A-Za-z0-9_]*$/ {
            f = prev; gsub(/ /, "", f); s = $0; sub(/^ *at /, "", s)
            cite(f " " s)
        }
        { prev = $0 }' "$1"
}

# stale_citations FILE - prints "FUNCTION SOURCE:LINE: why" for every
# frame cited_lines finds whose line no longer holds what the report saw:
# the line must lie in FUNCTION (the last definition that starts a line
# before it, as every function in labs/ does) and make a call there.
stale_citations() {
    local fn src n
    while read -r fn src n; do
        awk -v fn="$fn" -v n="$n" -v cite="$fn $src:$n" '
            /^[A-Za-z].*[A-Za-z_][A-Za-z0-9_]*\(/ && !/;[[:space:]]*$/ {
                d = $0; sub(/\(.*/, "", d); sub(/.*[^A-Za-z0-9_]/, "", d); def = d
            }
            FNR == n {
                code = $0; gsub(/(if|for|while|switch|return|sizeof) *\(/, "", code)
                if (def != fn) printf "%s: in %s, not %s\n", cite, def, fn
                else if (code !~ /[A-Za-z_][A-Za-z0-9_]*\(/) printf "%s: makes no call\n", cite
                found = 1; exit
            }
            END { if (!found) printf "%s: no such line\n", cite }' "$LEAKLAB_ROOT/labs/$src"
    done < <(cited_lines "$1")
}

@test "every source line a pasted report in LESSONS.md cites is still the call it saw" {
    local n
    n=$(cited_lines "$LEAKLAB_ROOT/LESSONS.md" | wc -l)
    [ "$n" -ge 10 ] || fail "found only $n cited frames in LESSONS.md: is cited_lines broken?"
    run stale_citations "$LEAKLAB_ROOT/LESSONS.md"
    assert_success
    [[ -z $output ]] || fail "$(printf 'run the report again; these frames moved:\n%s' "$output")"
}

@test "the citation check flags a frame one line off or in another function" {
    local f=$BATS_TEST_TMPDIR/report.md at
    at=$(grep -n 'struct request_ctx \*ctx = malloc' "$LEAKLAB_ROOT/labs/lab1-closure.c" | cut -d: -f1)
    [[ $at =~ ^[0-9]+$ ]] || fail "make_context's malloc not found in lab1-closure.c"
    cat >"$f" <<EOF
    ==1==    by 0x1: make_context (lab1-closure.c:$at)
    ==1==    by 0x1: make_context (lab1-closure.c:$((at - 1)))
    #2 0x1 in main labs/lab1-closure.c:$at:31
make_context
  at labs/lab1-closure.c:$at
  in build/lab1
add_listener
  at labs/lab1-closure.c:99999
EOF
    run stale_citations "$f"
    assert_success
    assert_output "make_context lab1-closure.c:$((at - 1)): makes no call
main lab1-closure.c:$at: in make_context, not main
add_listener lab1-closure.c:99999: no such line"
}

# --------------------------------------------------------------------------
# README's table of what make writes
# --------------------------------------------------------------------------

# landing_patterns FILE - the paths README's "Where things land" table
# names in its first column, one extended regex a line, anchored. In a
# cell, `.svg` after `out/labN/MODE.png` is MODE.svg beside it, and a bare
# name (`copy.bin`) sits beside the path before it; labN is any lab, MODE
# any mode, and a path ending in / is everything under it.
landing_patterns() {
    awk '
        /^## Where things land/ { on = 1; next }
        on && /^## / { exit }
        on && /^\| `/ {
            split($0, cell, "|"); s = cell[2]; prev = ""
            while (match(s, /`[^`]*`/)) {
                p = substr(s, RSTART + 1, RLENGTH - 2); s = substr(s, RSTART + RLENGTH)
                if (p ~ /^\./ && prev != "") { q = prev; sub(/\.[^.\/]*$/, "", q); p = q p }
                else if (p !~ /\// && prev != "") { q = prev; sub(/[^\/]*$/, "", q); p = q p }
                prev = p
                gsub(/\./, "\\.", p); gsub(/labN/, "lab[0-9]+", p); gsub(/MODE/, "[^/]+", p)
                print "^" p (p ~ /\/$/ ? "" : "$")
            }
        }' "$1"
}

# unlisted_outputs README DIR PREFIX - prints every file under DIR whose
# path, as PREFIX/relative-path, matches none of README's patterns.
unlisted_outputs() {
    local patterns f
    patterns=$(landing_patterns "$1")
    [[ -n $patterns ]] || { echo "no patterns in $1"; return 0; }
    while IFS= read -r -d '' f; do
        grep -qE -f <(printf '%s\n' "$patterns") <<<"$3/${f#"$2"/}" || printf '%s/%s\n' "$3" "${f#"$2"/}"
    done < <(find "$2" -type f -print0 | sort -z)
}

@test "README's table names every file make lab5 and make massif write" {
    skip_if_sanitized "massif runs the normal build under Valgrind"
    local out=$BATS_TEST_TMPDIR/out
    make -s --no-print-directory -C "$LEAKLAB_ROOT" BUILD="$MAKE_BUILD" OUT="$out" TEXT_CHARTS=no \
        lab5 >"$BATS_TEST_TMPDIR/make.log" 2>&1 || fail "make lab5: $(cat "$BATS_TEST_TMPDIR/make.log")"
    make -s --no-print-directory -C "$LEAKLAB_ROOT" BUILD="$MAKE_BUILD" OUT="$out" \
        massif LAB=2 MODE=rlimit >"$BATS_TEST_TMPDIR/make.log" 2>&1 ||
        fail "make massif: $(cat "$BATS_TEST_TMPDIR/make.log")"
    [ -f "$out/lab5/input.bin" ] && [ -f "$out/lab2/rlimit.massif.log" ] &&
        compgen -G "$out/lab2/rlimit-massif/iter-*.massif" >/dev/null ||
        fail "the runs did not write what this test expects: $(cd "$out" && find . -type f)"
    run unlisted_outputs "$LEAKLAB_ROOT/README.md" "$out" out
    assert_success
    [[ -z $output ]] || fail "$(printf 'README.md, "Where things land", does not name:\n%s' "$output")"
}

@test "the table check reads cells as README writes them, and flags what is missing" {
    local readme=$BATS_TEST_TMPDIR/README.md dir=$BATS_TEST_TMPDIR/out
    cat >"$readme" <<'EOF'
## Where things land

| path | what |
|------|------|
| `out/labN/MODE.png`, `.svg` | a chart (`out/not/a/pattern.txt`) |
| `out/lab5/input.bin`, `copy.bin` | lab 5 |
| `out/labN/MODE-massif/` | snapshots |

## Next
| `out/labN/MODE.meta` | outside the section |
EOF
    mkdir -p "$dir/lab1/retain-massif" "$dir/lab5"
    touch "$dir/lab1/retain.png" "$dir/lab1/retain.svg" "$dir/lab1/retain-massif/iter-0.massif" \
        "$dir/lab5/input.bin" "$dir/lab5/copy.bin" "$dir/lab1/retain.meta" \
        "$dir/lab1/retain.massif.log" "$dir/lab1/retain.pngx"
    run unlisted_outputs "$readme" "$dir" out
    assert_success
    assert_output "out/lab1/retain.massif.log
out/lab1/retain.meta
out/lab1/retain.pngx"
}
