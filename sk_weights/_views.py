"""Presentation: how weights and numbers are written, in text, HTML and plots.

The report (:mod:`sk_weights.report`), the explanations
(:mod:`sk_weights._explain`) and the path (:mod:`sk_weights.inspection`)
compute their content elsewhere and render it with these helpers, so that a
weight looks the same wherever it is shown; the command line's pages take
their style, :data:`CSS`, from here too.
"""

import html
import io
import re
import textwrap

import numpy as np

#: Bar and image colours by the sign of the weight.
SIGN_COLOURS = {"positive": "#2a6fb0", "negative": "#c44e52", "zero": "#b0b0b0"}

#: The diverging colour map of signed images and heatmaps, centred on 0:
#: positive is blue and negative red, as in the bars.
DIVERGING_CMAP = "RdBu"

#: Width at which long lines of text are wrapped.
LINE_WIDTH = 88

#: Up to this many outputs (classes, targets), the tables show one weight
#: column per output; beyond, a heatmap.
MAX_OUTPUT_COLUMNS = 10

#: The style of the HTML pages and fragments.
CSS = (
    "body{font-family:system-ui,sans-serif;margin:2em;color:#222}"
    ".sk-weights-report table{border-collapse:collapse;margin:0.8em 0}"
    ".sk-weights-report th,.sk-weights-report td{padding:2px 8px;"
    "border-bottom:1px solid #ddd;text-align:right}"
    ".sk-weights-report td.heat{padding:0;width:1.4em;min-width:1.4em;"
    "border:1px solid #fff}"
    ".sk-weights-report td.num{padding:2px 5px;white-space:nowrap;"
    "font-variant-numeric:tabular-nums}"
    ".sk-weights-report img{max-width:100%}"
)


def printable(text):
    """``text`` with every non-printable character (ESC, newline, ...) escaped."""
    return "".join(
        char if char.isprintable() else char.encode("unicode_escape").decode("ascii")
        for char in str(text)
    )


def escape_html(text):
    """``text`` made printable, then escaped for HTML."""
    return html.escape(printable(text))


def plot_text(text):
    """``text`` made printable for a matplotlib label."""
    # A "$" would start matplotlib's mathtext.
    return printable(text).replace("$", r"\$")


def format_number(value):
    """A signed number, never "-0"."""
    if value == 0:
        return "0"
    return f"{value:+.4g}"


def format_weight(weight):
    """The one formatter of weights: a number, or labelled numbers per output."""
    if isinstance(weight, dict):
        return ", ".join(f"{label}: {format_number(w)}" for label, w in weight.items())
    return format_number(weight)


def table_decimals(limit):
    """Decimals that give the largest magnitude ``limit`` three significant digits."""
    if not limit > 0:
        return 2
    return int(max(0, 2 - np.floor(np.log10(limit))))


def format_fixed(value, decimals):
    """A signed number with ``decimals`` decimals, for columns that align.

    An exact zero is "0"; a weight that rounds to zero but is not zero keeps
    its decimals and drops its sign ("0.00"), so the two stay apart.
    """
    if value == 0:
        return "0"
    text = f"{value:+.{decimals}f}"
    if float(text) == 0:
        return text[1:]
    return text


def format_value(value):
    """A parameter's value: a float in short form, anything else as str."""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def wrap(line, width=LINE_WIDTH, indent="    ", items=False):
    """Split a long line; the continuation lines are indented.

    With ``items``, the line is a list (items joined by ", ", after a heading
    that ends in ":"), split between its items, so that an item ("s4 50 %",
    "x0 (0.187)") stays on one line. Other text, and an item too long for a
    line, is split at spaces.
    """
    if len(line) <= width:
        return [line]
    lead = line[: len(line) - len(line.lstrip(" "))] + indent
    if not items:
        return textwrap.wrap(
            line,
            width=width,
            subsequent_indent=lead,
            break_long_words=False,
            break_on_hyphens=False,
        )
    # The heading (up to the first ": ") is one piece, then each item.
    head, colon, rest = line.partition(": ")
    pieces = [head + ":"] if colon else []
    pieces += re.split(r"(?<=,) ", rest if colon else line)
    lines, current = [], ""
    for piece in pieces:
        candidate = f"{current} {piece}" if current else piece
        if current and len(candidate) > width:
            lines.append(current)
            candidate = lead + piece
        current = candidate
    lines.append(current)
    # An item longer than a line on its own is split at its spaces.
    return [
        part
        for text in lines
        for part in (
            [text]
            if len(text) <= width
            else textwrap.wrap(
                text,
                width=width,
                subsequent_indent=lead,
                break_long_words=False,
                break_on_hyphens=False,
            )
        )
    ]


def sign_colour(weight):
    """Colour of a single output's weight by its sign; neutral for several."""
    if isinstance(weight, dict):
        return "#777777"
    if weight > 0:
        return SIGN_COLOURS["positive"]
    return SIGN_COLOURS["negative"] if weight < 0 else SIGN_COLOURS["zero"]


def sign_legend(ax):
    """A legend of the two bar colours."""
    from matplotlib.patches import Patch

    ax.legend(
        handles=[
            Patch(color=SIGN_COLOURS["positive"], label="weight > 0"),
            Patch(color=SIGN_COLOURS["negative"], label="weight < 0"),
        ],
        loc="lower right",
        fontsize="small",
    )


def heat_colour(value, limit):
    """The CSS colour of ``value`` on a white-centred blue (+) / red (-) scale."""
    share = 0.0 if limit <= 0 else min(abs(value) / limit, 1.0)
    end = SIGN_COLOURS["positive"] if value > 0 else SIGN_COLOURS["negative"]
    red, green, blue = (int(end[k : k + 2], 16) for k in (1, 3, 5))
    mix = [round(255 + share * (c - 255)) for c in (red, green, blue)]
    return "#{:02x}{:02x}{:02x}".format(*mix)


def weight_cells(values, limit, numbers=True):
    """HTML cells for one row of per-output weights, shaded by value.

    With ``numbers``, each cell shows its weight (fixed decimals, three
    significant digits at ``limit``) on a light shade; otherwise the cells are
    a heatmap. Either way the full value shows on hover.
    """
    decimals = table_decimals(limit)
    cells = []
    for value in values:
        # Under a number the shade goes to half strength, so the text stays
        # readable.
        colour = heat_colour(value, 2 * limit if numbers else limit)
        title = escape_html(format_number(value))
        if numbers:
            cells.append(
                f'<td class="num" style="background:{colour}" title="{title}">'
                f"{format_fixed(value, decimals)}</td>"
            )
        else:
            cells.append(
                f'<td class="heat" style="background:{colour}" title="{title}"></td>'
            )
    return "".join(cells)


def colour_bar(fig, image, ax, label=None):
    """A colour bar beside ``ax`` for ``image``."""
    bar = fig.colorbar(image, ax=ax, shrink=0.8)
    if label:
        bar.set_label(label)
    return bar


def symmetric_limit(values):
    """The colour limit of a signed image: its largest magnitude (1 if all 0)."""
    return float(np.abs(np.asarray(values, dtype=float)).max(initial=0.0)) or 1.0


def png_bytes(fig, dpi=90):
    """A matplotlib figure rendered as PNG bytes."""
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=dpi)
    return buffer.getvalue()
