# header.gp - turns a chart into a slide: the lab's claim as the page's
# title, the chart's takeaway directly under it, the chart's own name as a
# small subtitle, and the chart below them.
#
# slides.sh hands plot.sh a file (--extra) that sets claim and loads this
# one; plot.sh loads that file after its own settings, for every chart of
# the lab, so ttl (the chart's name) and caption (its takeaway) are the
# chart's own. They move up here, and the chart script draws neither.
#
# The deck's pages are "pdf" (style.gp): a 1280x720 pt page on which a
# font named N pt is drawn at N pt. Labels from 200 up are the slide's.

slide_left = 0.04   # the header's left edge, in screen coordinates

# fit(text, pt, em, least) - the font size, pt or smaller (not below
# least), at which text fits the page's 1180 pt of line, at an estimated
# em per character (DejaVu Sans: 0.62 in bold, 0.55 regular).
fit(text, pt, em, least) = strlen(text) * em * pt <= 1180 ? pt : \
    (1180 / (strlen(text) * em) < least ? least : 1180 / (strlen(text) * em))

# The header's labels, numbered from 901 (the charts use 1 to 399), as a
# command: compare.gp clears every label before each panel and runs
# page_header again on the first, run.gp keeps them as set here.
slide_claim = claim; slide_caption = caption; slide_ttl = ttl
page_header = sprintf("set label 901 slide_claim at screen %g, screen 0.925 left font 'DejaVu Sans:Bold,%.1f' tc rgb '#000000' front; ", slide_left, fit(claim, 40, 0.62, 28)) . \
    sprintf("set label 902 slide_caption at screen %g, screen 0.845 left font ',%.1f' tc rgb '#222222' front; ", slide_left, fit(caption, 26, 0.55, 20)) . \
    sprintf("set label 903 slide_ttl at screen %g, screen 0.78 left font ',20' tc rgb '#5f5f5f' front", slide_left)
eval page_header
# The plot starts below the header: slides.sh gives plot.sh --top 280,
# the top 280 of the chart's 1080 pixels (0.26 of the page).

ttl = ""
caption = ""
