#!/usr/bin/env python3
"""Turn a terminal screen captured with `tmux capture-pane -e -p` into one
self-contained HTML page (no fonts, scripts or images fetched), for headless
Chromium to screenshot.

    python3 ansi2html.py --columns 120 --rows 30 < screen.ans > screen.html

Only SGR sequences (`ESC [ … m`) are read, since that is all tmux writes in a
capture; any other escape sequence is dropped.
"""

import argparse
import html
import re
import sys

# The terminal's own colours: a dark theme, since Neovim assumes a dark
# background unless told otherwise (xterm's sixteen, slightly softened).
FOREGROUND = "#d0d0d0"
BACKGROUND = "#1c1c1c"
SIXTEEN = [
    "#000000", "#cd3131", "#0dbc79", "#e5e510", "#2472c8", "#bc3fbc", "#11a8cd", "#e5e5e5",
    "#666666", "#f14c4c", "#23d18b", "#f5f543", "#3b8eea", "#d670d6", "#29b8db", "#ffffff",
]

# Pixels a cell takes; the page is sized from them so the screenshot's window
# can be given exactly (see `page_size`).
FONT_PX = 15
CELL_WIDTH_EM = 0.602  # DejaVu Sans Mono's advance
LINE_HEIGHT = 1.25
PADDING_PX = 12

SGR = re.compile(r"\x1b\[([0-9;:]*)m")
OTHER_ESCAPE = re.compile(r"\x1b(\[[0-9;?]*[A-Za-ln-z]|\][^\x07]*\x07|[()][0-9A-Za-z])")


def palette(index):
    """The colour of index 0–255 of the xterm palette."""
    if index < 16:
        return SIXTEEN[index]
    if index < 232:
        index -= 16
        steps = [0, 95, 135, 175, 215, 255]
        r, g, b = steps[index // 36], steps[index // 6 % 6], steps[index % 6]
        return f"#{r:02x}{g:02x}{b:02x}"
    level = 8 + 10 * (index - 232)
    return f"#{level:02x}{level:02x}{level:02x}"


class Style:
    """The attributes an SGR sequence sets, reset by `0`."""

    def __init__(self):
        self.fg = None
        self.bg = None
        self.underline_color = None
        self.bold = self.italic = self.underline = self.reverse = self.dim = False

    def apply(self, params):
        codes = [int(p) if p else 0 for p in re.split(r"[;:]", params)] if params else [0]
        i = 0
        while i < len(codes):
            code = codes[i]
            if code in (38, 48, 58):
                colour, i = extended_colour(codes, i + 1)
                setattr(self, {38: "fg", 48: "bg", 58: "underline_color"}[code], colour)
                continue
            if code == 0:
                self.__init__()
            elif code == 1:
                self.bold = True
            elif code == 2:
                self.dim = True
            elif code == 3:
                self.italic = True
            elif code == 4:
                self.underline = True
            elif code == 7:
                self.reverse = True
            elif code == 22:
                self.bold = self.dim = False
            elif code == 23:
                self.italic = False
            elif code == 24:
                self.underline = False
            elif code == 27:
                self.reverse = False
            elif 30 <= code <= 37:
                self.fg = SIXTEEN[code - 30]
            elif code == 39:
                self.fg = None
            elif 40 <= code <= 47:
                self.bg = SIXTEEN[code - 40]
            elif code == 49:
                self.bg = None
            elif code == 59:
                self.underline_color = None
            elif 90 <= code <= 97:
                self.fg = SIXTEEN[code - 90 + 8]
            elif 100 <= code <= 107:
                self.bg = SIXTEEN[code - 100 + 8]
            i += 1

    def css(self):
        fg, bg = self.fg, self.bg
        if self.reverse:
            fg, bg = bg or BACKGROUND, fg or FOREGROUND
        rules = []
        if fg:
            rules.append(f"color:{fg}")
        if bg:
            rules.append(f"background:{bg}")
        if self.bold:
            rules.append("font-weight:bold")
        if self.dim:
            rules.append("opacity:.7")
        if self.italic:
            rules.append("font-style:italic")
        if self.underline:
            rules.append("text-decoration:underline")
            if self.underline_color:
                rules.append(f"text-decoration-color:{self.underline_color}")
        return ";".join(rules)


def extended_colour(codes, i):
    """Read `5;n` or `2;r;g;b` after a 38, 48 or 58; return the colour and the next index."""
    if i < len(codes) and codes[i] == 5 and i + 1 < len(codes):
        return palette(codes[i + 1]), i + 2
    if i < len(codes) and codes[i] == 2 and i + 3 < len(codes):
        r, g, b = codes[i + 1 : i + 4]
        return f"#{r:02x}{g:02x}{b:02x}", i + 4
    return None, len(codes)


def line_to_html(line, style, columns):
    """One screen line as spans; `style` carries over to the next line, as in a terminal."""
    out = []
    written = 0
    position = 0
    for match in list(SGR.finditer(line)) + [None]:
        end = match.start() if match else len(line)
        text = line[position:end]
        if text:
            written += len(text)
            css = style.css()
            escaped = html.escape(text)
            out.append(f'<span style="{css}">{escaped}</span>' if css else escaped)
        if match:
            style.apply(match.group(1))
            position = match.end()
    # tmux leaves out trailing blanks; pad so every line spans the screen.
    out.append(" " * max(0, columns - written))
    return "".join(out)


def page_size(columns, rows):
    """The page's width and height in pixels, for `chromium --window-size`."""
    width = round(columns * FONT_PX * CELL_WIDTH_EM) + 2 * PADDING_PX
    height = round(rows * FONT_PX * LINE_HEIGHT) + 2 * PADDING_PX
    return width, height


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--columns", type=int, required=True)
    parser.add_argument("--rows", type=int, required=True)
    parser.add_argument("--title", default="terminal")
    parser.add_argument("--print-size", action="store_true", help="print WIDTH,HEIGHT and exit")
    args = parser.parse_args()
    if args.print_size:
        print("%d,%d" % page_size(args.columns, args.rows))
        return

    screen = OTHER_ESCAPE.sub("", sys.stdin.read())
    lines = screen.split("\n")[: args.rows]
    lines += [""] * (args.rows - len(lines))
    style = Style()
    body = "\n".join(line_to_html(line, style, args.columns) for line in lines)
    width, height = page_size(args.columns, args.rows)
    print(f"""<!doctype html>
<html><head><meta charset="utf-8"><title>{html.escape(args.title)}</title>
<style>
html, body {{ margin: 0; background: {BACKGROUND}; }}
pre {{
  margin: 0; padding: {PADDING_PX}px; width: {width - 2 * PADDING_PX}px; height: {height - 2 * PADDING_PX}px;
  color: {FOREGROUND}; font: {FONT_PX}px/{LINE_HEIGHT} "DejaVu Sans Mono", monospace; white-space: pre;
  overflow: hidden;
}}
/* An inline span's background covers only the font's height, not the line's;
   as blocks as tall as the line, runs of background (the sign column, the
   menu) join up as they do in the terminal. */
pre span {{ display: inline-block; height: {FONT_PX * LINE_HEIGHT}px; vertical-align: top; }}
</style></head>
<body><pre>{body}</pre></body></html>""")


if __name__ == "__main__":
    main()
