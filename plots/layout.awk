# layout.awk - where each label of a chart goes: in free space, computed
# from the data. plot.sh feeds it, on stdin, what a chart draws and the
# labels it wants placed, and reads back where to put each one.
#
# Everything is measured on the 1920x1080 PNG (y grows downwards), which
# the SVG, the PDF page and the small PNG all scale as a whole: a label
# that is clear of every line there is clear of it in every format.
#
# Input, one record a line, tab-separated (numbers are data coordinates
# unless they end in _px):
#
#   panel  P  x0_px y0_px x1_px y1_px  xmin xmax  ymin ymax  y2min y2max
#          a plot box (top left, bottom right) and its axes' ranges
#   point  P  AXIS SERIES  x y
#          one point of a line drawn on axis 1 or 2 of panel P; points of
#          one SERIES, in order, are joined by straight segments
#   hline  P  y           a line across the whole panel (a wall)
#   mark   P  x y r_px    a marker: a square r_px either side of (x, y)
#   key    y_px em_px width_px TEXT
#          a key: its entries' texts, apart by \036, laid out in rows no
#          wider than width_px, centred on the page, the first row's middle
#          at y_px; each entry is a sample 2 em long, 0.5 em of space, its
#          text, and 1.5 em before the next
#   label  N  P  HOW  x y  em_px  TEXT
#          a label to place, in a font em_px tall. TEXT holds one or more
#          forms to choose from, the best first, apart by \036 (RS); a
#          form's lines are apart by \037 (US). HOW:
#            along  on the wall at y: above it, else below, leftmost first
#            near   beside the marker at (x, y): above it or below it
#                   (from its left to its right), then left, then right;
#                   each further out in turn
#            top    along the top edge of the panel, leftmost first
#          The first form that fits anywhere is taken.
#
# Output, for a key, one line per entry: "key I x0 x1 tx y": its sample
# from x0 to x1, its text's left edge at tx, the row's middle at y. Then
# one line per label, in input order: "N F sx sy": the form taken
# (1 for the first) and where gnuplot should anchor its first line, left-
# justified, in screen fractions (0 to 1, y upwards), for `set label N at
# screen sx, screen sy left`. Each further line goes LINE em lower. A
# label with nothing free for it (a chart crowded everywhere) goes where it
# covers the fewest things, and gets a fifth field, "crowded".
#
# Sizes: text is DejaVu Sans, each character its own advance width (the
# table below, from the font's hmtx; 0.84 em for anything beyond ASCII,
# its UTF-8 continuation bytes nothing). gnuplot centres a label's capital
# letters on its anchor; the box spans 0.45 em above that to 0.62 em below
# (ascenders and descenders). Lines are thick, so a box must stay PAD px
# clear of them, and of other labels and the panel's edges.

BEGIN {
    FS = "\t"
    W = 1920; H = 1080; PAD = 7; LINE = 1.2
    # Advance widths of ASCII 32 to 126, in thousandths of an em.
    split("318 401 460 838 636 950 780 275 390 390 500 838 318 361 318 337 " \
          "636 636 636 636 636 636 636 636 636 636 337 337 838 838 838 531 " \
          "1000 684 686 698 770 632 575 775 752 295 295 656 557 863 748 787 " \
          "603 787 695 635 611 732 684 989 685 611 685 390 337 390 838 500 " \
          "500 613 635 550 635 615 352 635 634 278 278 579 278 974 634 612 " \
          "635 635 411 521 392 634 592 818 592 592 525 636 337 636 838", adv, " ")
    for (i = 32; i < 127; i++) code[sprintf("%c", i)] = i
    nlab = 0
}

# text_em(s) - the width of s in ems.
function text_em(s,    i, c, w) {
    w = 0
    for (i = 1; i <= length(s); i++) {
        c = substr(s, i, 1)
        if (c in code) w += adv[code[c] - 31] / 1000
        else if (c >= "\300") w += 0.84      # a UTF-8 lead byte: one glyph
    }                                          # (continuation bytes: none)
    return w
}

$1 == "panel" {
    p = $2
    bx0[p] = $3; by0[p] = $4; bx1[p] = $5; by1[p] = $6
    xmin[p] = $7; xmax[p] = $8; ymin[p] = $9; ymax[p] = $10
    y2min[p] = $11; y2max[p] = $12
    next
}
$1 == "point" {
    p = $2; key = p SUBSEP $4
    px = xpx(p, $5); py = ypx(p, $3, $6)
    if (key in lastx) seg(p, lastx[key], lasty[key], px, py)
    lastx[key] = px; lasty[key] = py
    next
}
$1 == "hline" {
    p = $2
    seg(p, bx0[p], ypx(p, 1, $3), bx1[p], ypx(p, 1, $3))
    next
}
$1 == "mark" {
    p = $2; px = xpx(p, $3); py = ypx(p, 1, $4)
    nm[p]++; mx[p, nm[p]] = px; my[p, nm[p]] = py; mr[p, nm[p]] = $5
    next
}
$1 == "key" {
    n = split($5, keys, "\036"); em = $3; x = 0; row = 0; rowstart = 1
    for (i = 1; i <= n; i++) {
        w = (2.5 + text_em(keys[i])) * em
        if (x > 0 && x + 1.5 * em + w > $4) { key_row(rowstart, i - 1, x, row); row++; x = 0; rowstart = i }
        kx[i] = x + (x > 0 ? 1.5 * em : 0); x = kx[i] + w
    }
    key_row(rowstart, n, x, row)
    next
}

# key_row(a, b, width, row) - prints entries a to b, a row width px wide.
function key_row(a, b, width, row,    i, left, y) {
    left = (W - width) / 2; y = 1 - ($2 + row * 1.3 * $3) / H
    for (i = a; i <= b; i++)
        printf "key\t%d\t%.5f\t%.5f\t%.5f\t%.5f\n", i, (left + kx[i]) / W, \
            (left + kx[i] + 2 * $3) / W, (left + kx[i] + 2.5 * $3) / W, y
}

$1 == "label" {
    nlab++
    lid[nlab] = $2; lp[nlab] = $3; lhow[nlab] = $4
    lx[nlab] = $5; ly[nlab] = $6; lem[nlab] = $7; ltext[nlab] = $8
    next
}

# Data to pixels.
function xpx(p, x) {
    return bx0[p] + (x - xmin[p]) / (xmax[p] - xmin[p]) * (bx1[p] - bx0[p])
}
function ypx(p, axis, y,    lo, hi) {
    lo = axis == 2 ? y2min[p] : ymin[p]
    hi = axis == 2 ? y2max[p] : ymax[p]
    return by1[p] - (y - lo) / (hi - lo) * (by1[p] - by0[p])
}

function seg(p, ax, ay, bx, by) {
    ns[p]++; sx0[p, ns[p]] = ax; sy0[p, ns[p]] = ay
    sx1[p, ns[p]] = bx; sy1[p, ns[p]] = by
}

# hits_seg(ax, ay, bx, by, l, t, r, b) - the segment crosses the box
# (Liang-Barsky clipping: some part of it lies inside).
function hits_seg(ax, ay, bx, by, l, t, r, b,    dx, dy, u0, u1, i, pp, qq, u) {
    dx = bx - ax; dy = by - ay; u0 = 0; u1 = 1
    pp[1] = -dx; qq[1] = ax - l
    pp[2] = dx;  qq[2] = r - ax
    pp[3] = -dy; qq[3] = ay - t
    pp[4] = dy;  qq[4] = b - ay
    for (i = 1; i <= 4; i++) {
        if (pp[i] == 0) { if (qq[i] < 0) return 0; continue }
        u = qq[i] / pp[i]
        if (pp[i] < 0) { if (u > u1) return 0; if (u > u0) u0 = u }
        else           { if (u < u0) return 0; if (u < u1) u1 = u }
    }
    return 1
}

# conflicts(p, l, t, r, b) - how many things the box would cover: lines,
# markers, labels already placed, and the panel's edges.
function conflicts(p, l, t, r, b,    n, i) {
    n = 0
    if (l < bx0[p] + PAD || r > bx1[p] - PAD || t < by0[p] + PAD || b > by1[p] - PAD) n += 5
    for (i = 1; i <= ns[p]; i++)
        if (hits_seg(sx0[p, i], sy0[p, i], sx1[p, i], sy1[p, i], l - PAD, t - PAD, r + PAD, b + PAD)) n++
    for (i = 1; i <= nm[p]; i++)
        if (mx[p, i] + mr[p, i] > l - PAD && mx[p, i] - mr[p, i] < r + PAD &&
            my[p, i] + mr[p, i] > t - PAD && my[p, i] - mr[p, i] < b + PAD) n++
    for (i = 1; i <= nplaced[p]; i++)
        if (pl[p, i] < r + PAD && pr[p, i] > l - PAD && pt[p, i] < b + PAD && pb[p, i] > t - PAD) n++
    return n
}

# try(l, t) - a candidate box with its left and top edges at (l, t): keeps
# it when it is free (or the least crowded yet).
function try(l, t,    n) {
    if (found) return
    n = conflicts(cur_p, l, t, l + cur_w, t + cur_h)
    if (n == 0) found = 1
    if (best_n == "" || n < best_n) { best_n = n; best_l = l; best_t = t; best_f = cur_f }
}

# slide(t) - boxes with their top at t, from one whose right edge is d
# left of the marker to one whose left edge is d right of it.
function slide(t,    l) {
    for (l = cx - d - cur_w; l <= cx + d && !found; l += 12) try(l, t)
}

# search(k) - every candidate of label k's HOW, for the current form.
function search(k,    p, side, l, t, wy, gap) {
    p = cur_p
    if (lhow[k] == "along") {
        wy = ypx(p, 1, ly[k]); gap = PAD + 4
        for (side = 0; side < 2 && !found; side++)
            for (l = bx0[p] + 2 * PAD; l + cur_w <= bx1[p] - PAD && !found; l += 12)
                try(l, side == 0 ? wy - gap - cur_h : wy + gap)
    } else if (lhow[k] == "top") {
        for (t = by0[p] + PAD; t < by0[p] + 3 * lem[k] && !found; t += lem[k] / 2)
            for (l = bx0[p] + 2 * PAD; l + cur_w <= bx1[p] - PAD && !found; l += 12)
                try(l, t)
    } else {
        cx = xpx(p, lx[k]); cy = ypx(p, 1, ly[k])
        for (d = 14; d <= 400 && !found; d += 10) {
            slide(cy - d - cur_h)                  # above
            slide(cy + d)                          # below
            try(cx - d - cur_w, cy - cur_h / 2)    # left
            try(cx + d, cy - cur_h / 2)            # right
        }
    }
}

END {
    for (k = 1; k <= nlab; k++) {
        cur_p = p = lp[k]; em = lem[k]
        nf = split(ltext[k], forms, "\036")
        found = 0; best_n = ""
        for (f = 1; f <= nf && !found; f++) {
            nl = split(forms[f], lines, "\037")
            cur_w = 0
            for (i = 1; i <= nl; i++) if (text_em(lines[i]) * em > cur_w) cur_w = text_em(lines[i]) * em
            cur_h = (nl - 1) * LINE * em + 1.07 * em
            cur_f = f
            search(k)
        }
        nl = split(forms[best_f], lines, "\037")
        cur_w = 0
        for (i = 1; i <= nl; i++) if (text_em(lines[i]) * em > cur_w) cur_w = text_em(lines[i]) * em
        cur_h = (nl - 1) * LINE * em + 1.07 * em
        l = best_l; t = best_t
        nplaced[p]++
        pl[p, nplaced[p]] = l; pt[p, nplaced[p]] = t
        pr[p, nplaced[p]] = l + cur_w; pb[p, nplaced[p]] = t + cur_h
        # gnuplot anchors a left-justified label at its left edge, on the
        # middle of its capitals: 0.45 em below the box's top.
        printf "%s\t%d\t%.5f\t%.5f%s\n", lid[k], best_f, l / W, 1 - (t + 0.45 * em) / H, \
            found ? "" : "\tcrowded"
    }
}
