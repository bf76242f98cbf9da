"""Draws the citizen app's icons (icon-192.png, icon-512.png) with Pillow.

Run from this folder: python3 make_icons.py. The drawing is the project's own: a white shield with a
green check mark on the app bar's blue, kept inside the central 80 % so that the icons also work as
"maskable" (launchers may crop them to a circle or a squircle).
"""
from PIL import Image, ImageDraw

BLUE, WHITE, GREEN = (11, 79, 138), (255, 255, 255), (27, 127, 59)


def icon(size):
    scale = 4  # draw large, then downsample for smooth edges
    s = size * scale
    img = Image.new("RGB", (s, s), BLUE)
    d = ImageDraw.Draw(img)
    u = s / 100  # one unit = 1 % of the side
    # Shield: straight sides from the rounded top, curving to a point at the bottom (22..78 %).
    left, right, top, waist, bottom = 24 * u, 76 * u, 20 * u, 52 * u, 84 * u

    def curve(p0, c, p1, n=24):  # quadratic Bézier points
        return [((1 - t) ** 2 * p0[0] + 2 * (1 - t) * t * c[0] + t * t * p1[0],
                 (1 - t) ** 2 * p0[1] + 2 * (1 - t) * t * c[1] + t * t * p1[1])
                for t in (i / n for i in range(n + 1))]
    outline = ([(left, top + 6 * u)] + curve((left, waist), (left, 74 * u), (50 * u, bottom))
               + curve((50 * u, bottom), (right, 74 * u), (right, waist)) + [(right, top + 6 * u)])
    d.polygon(outline, fill=WHITE)
    d.rounded_rectangle([left, top, right, top + 20 * u], radius=6 * u, fill=WHITE)
    # Check mark.
    d.line([(36 * u, 50 * u), (46 * u, 60 * u), (65 * u, 38 * u)], fill=GREEN, width=int(8 * u), joint="curve")
    for x, y in ((36 * u, 50 * u), (65 * u, 38 * u)):
        r = 4 * u
        d.ellipse([x - r, y - r, x + r, y + r], fill=GREEN)
    return img.resize((size, size), Image.LANCZOS)


if __name__ == "__main__":
    for size in (192, 512):
        icon(size).save(f"icon-{size}.png", optimize=True)
