#!/usr/bin/env bats
# The lessons in the project's own words. Two documents about Node.js
# memory (the seeds) are this suite's source material: their facts and
# their printed figures may be shown, cited by title, but their code and
# their sentences are not carried into the project. These tests compare
# every line of labs/, harness/, plots/, LESSONS.md and README.md with every
# line of the seeds.
#
# The seeds are not in the repository. They are read from ../shared/seeds/
# beside the clone (where CI puts a copy of shared/), or from the folder
# named by LEAKLAB_SEEDS; without either, the comparison is skipped.

load test_helper

# need_seeds - sets SEEDS to the folder of seed documents, or skips.
need_seeds() {
    SEEDS=${LEAKLAB_SEEDS:-$LEAKLAB_ROOT/../shared/seeds}
    compgen -G "$SEEDS/*.txt" >/dev/null ||
        skip "the seeds are not here: no $SEEDS/*.txt (a copy of shared/ beside the clone, or LEAKLAB_SEEDS=DIR)"
}

# project_files - the files whose lines are compared, NUL-separated, as
# ./relative paths (so that awk never reads one as a var=value operand):
# every text file under labs/, harness/ and plots/, LESSONS.md, README.md.
project_files() {
    (cd "$LEAKLAB_ROOT" &&
        grep -rIlZ -e '' labs harness plots LESSONS.md README.md |
        sed -z 's|^|./|')
}

# seed_repeats FILE... - prints "FILE:LINE: text" for each line of the FILEs
# that repeats a line of the seeds. Both sides are normalised the same way:
# HTML tags dropped, the entities the seeds use decoded, white space
# collapsed, and a leading comment or list marker (*, //, #, >, -) dropped,
# so that a seed line pasted into a C comment or a Markdown quote is still
# the same line. Lines match when they are equal once all white space is
# removed. Only seed lines of 25 characters or more count, and not the
# seeds' printed figures (Process: ... tables, FATAL lines, separators, the
# shell's job line), which the lessons may show. Reads the seeds from SEEDS.
seed_repeats() {
    local seed_files=("$SEEDS"/*.txt)
    # Bytes, not characters, so that mawk and gawk agree; chars() counts a
    # UTF-8 character once by not counting its continuation bytes.
    LC_ALL=C awk '
        function norm(s) {
            gsub(/<[^>]*>/, "", s)
            gsub(/&lt;/, "<", s); gsub(/&gt;/, ">", s)
            gsub(/&quot;/, "\"", s); gsub(/&#39;/, "\047", s)
            gsub(/&nbsp;|\302\240|\343\200\200/, " ", s)
            gsub(/&amp;/, "\\&", s)
            gsub(/[ \t\r\f\v]+/, " ", s)
            sub(/^ /, "", s)
            sub(/^(([*#>-]|\/\/+|\/\*+) ?)+/, "", s)
            sub(/ ?\*\/$/, "", s)
            sub(/ $/, "", s)
            return s
        }
        function chars(s) { return length(s) - gsub(/[\200-\277]/, "", s) }
        function key(s) { gsub(/ /, "", s); return s }
        function figure(s) {
            return s ~ /^(Process: |FATAL|-----|\[[0-9]+\] )/ ||
                   s ~ /^node [A-Za-z0-9_]+\.js$/
        }
        phase == "seed" {
            s = norm($0)
            if (chars(s) >= 25 && !figure(s)) seed[key(s)] = 1
            next
        }
        {
            s = norm($0)
            if (chars(s) >= 25 && (key(s) in seed)) {
                f = FILENAME; sub(/^\.\//, "", f)
                printf "%s:%d: %s\n", f, FNR, s
            }
        }
    ' phase=seed "${seed_files[@]}" phase=project "$@"
}

@test "no line of the labs, harness, charts, LESSONS or README repeats the seeds" {
    need_seeds
    local files hits
    mapfile -d '' files < <(project_files)
    [ "${#files[@]}" -gt 20 ] || fail "found only ${#files[@]} files to compare"
    hits=$(cd "$LEAKLAB_ROOT" && seed_repeats "${files[@]}")
    [[ -z $hits ]] || fail "$(printf '%s\n%s' \
        "$(wc -l <<<"$hits") line(s) repeat the seeds; say it in the project's own words:" "$hits")"
}

@test "the comparison finds seed lines in disguise and lets their figures through" {
    need_seeds
    local prose code html figure f=$BATS_TEST_TMPDIR/borrowed.md
    # Taken from the seeds now, so that this file quotes nothing itself:
    # a line of code, a line of prose in HTML, a line of printed output.
    code=$(LC_ALL=C awk 'length($0) > 40 && /;/ && !/</ { sub(/^ +/, ""); print; exit }' "$SEEDS"/*.txt)
    html=$(LC_ALL=C awk 'length($0) > 200 && /^<p / { print; exit }' "$SEEDS"/*.txt)
    prose=$(sed 's/<[^>]*>//g' <<<"$html")
    figure=$(grep -h -m1 '^Process: ' "$SEEDS"/*.txt | head -n1)
    [[ -n $code && -n $prose && -n $figure ]] ||
        fail "the seeds lack a line this test needs: code='$code' prose='$prose' figure='$figure'"
    {
        echo "A line of our own, long enough to be compared."
        echo " *     $code"
        echo "    ${code// /  }"
        echo "> $prose"
        echo "$figure"
        echo "// $figure"
    } >"$f"
    run seed_repeats "$f"
    assert_success
    [ "${#lines[@]}" -eq 3 ] || fail "expected lines 2, 3 and 4, got: $output"
    assert_line --index 0 --partial "$f:2: "
    assert_line --index 1 --partial "$f:3: "
    assert_line --index 2 --partial "$f:4: "
}

@test "nothing cites a seed by its path or file name" {
    # Students do not have the seeds' folder: cite a seed by its title.
    run grep -rnE 'shared/seeds|seeds/[0-9]|[0-9]{3}_([0-9a-f]{16}|\.\.\.)' \
        --exclude=seeds.bats -- "$LEAKLAB_ROOT/labs" "$LEAKLAB_ROOT/harness" \
        "$LEAKLAB_ROOT/plots" "$LEAKLAB_ROOT/LESSONS.md" "$LEAKLAB_ROOT/README.md"
    [ "$status" -eq 1 ] || fail "a seed cited by its path: $output"
}
