// A small line chart drawn as inline SVG: the score over an attempt. No library: the page loads
// nothing from elsewhere, and a polyline with a few gridlines is all this needs. The SVG scales
// with its box (viewBox), and says what it shows in words for screen readers.

const NS = "http://www.w3.org/2000/svg";

/**
 * An SVG element with attributes.
 * @param {string} tag
 * @param {Record<string, string|number>} [attrs]
 * @returns {SVGElement}
 */
function svg(tag, attrs = {}) {
  const node = document.createElementNS(NS, tag);
  for (const [name, value] of Object.entries(attrs)) node.setAttribute(name, String(value));
  return node;
}

/**
 * A line chart of points over time.
 * @param {{x: number, y: number, synthetic?: boolean}[]} points x in seconds since the epoch, y
 *   from 0 to yMax; synthetic points shape the line but get no dot
 * @param {{xMin?: number, xMax?: number, yMax?: number, width?: number, height?: number,
 *          formatX?: (x: number) => string, label?: string, yTicks?: number[]}} [options]
 * @returns {SVGSVGElement}
 */
export function lineChart(points, options = {}) {
  const width = options.width ?? 720;
  const height = options.height ?? 220;
  const yMax = options.yMax ?? 100;
  const yTicks = options.yTicks ?? [0, 25, 50, 75, 100];
  const formatX = options.formatX ?? ((x) => String(x));
  const pad = { left: 36, right: 14, top: 12, bottom: 28 };
  const xs = points.map((p) => p.x);
  const xMin = options.xMin ?? Math.min(...xs);
  let xMax = options.xMax ?? Math.max(...xs);
  if (!(xMax > xMin)) xMax = xMin + 1;
  const plotW = width - pad.left - pad.right;
  const plotH = height - pad.top - pad.bottom;
  const px = (x) => pad.left + ((x - xMin) / (xMax - xMin)) * plotW;
  const py = (y) => pad.top + plotH - (Math.max(0, Math.min(yMax, y)) / yMax) * plotH;

  const root = /** @type {SVGSVGElement} */ (svg("svg", {
    viewBox: `0 0 ${width} ${height}`,
    class: "chart__svg",
    width,
    height,
    role: "img",
  }));
  const last = points.length ? points[points.length - 1].y : 0;
  const peak = points.reduce((most, p) => Math.max(most, p.y), 0);
  const round = (value) => Math.round(value * 10) / 10;
  const summary = options.label ??
    `Score from ${formatX(xMin)} to ${formatX(xMax)}: highest ${round(peak)}, last ${round(last)}.`;
  root.setAttribute("aria-label", summary);
  const title = svg("title");
  title.textContent = summary;
  root.append(title);

  const grid = svg("g", { class: "chart__grid", "aria-hidden": "true" });
  for (const tick of yTicks) {
    const y = py(tick);
    grid.append(svg("line", { x1: pad.left, x2: width - pad.right, y1: y, y2: y }));
    const text = svg("text", { x: pad.left - 6, y: y + 4, "text-anchor": "end", class: "chart__tick" });
    text.textContent = String(tick);
    grid.append(text);
  }
  const xTicks = [xMin, xMin + (xMax - xMin) / 2, xMax];
  xTicks.forEach((tick, index) => {
    const anchor = index === 0 ? "start" : index === xTicks.length - 1 ? "end" : "middle";
    const text = svg("text", {
      x: px(tick), y: height - 8, "text-anchor": anchor, class: "chart__tick",
    });
    text.textContent = formatX(tick);
    grid.append(text);
  });
  root.append(grid);

  if (points.length) {
    const coords = points.map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`);
    const area = svg("polygon", {
      class: "chart__area",
      points: `${px(points[0].x).toFixed(1)},${py(0)} ${coords.join(" ")} ${px(points[points.length - 1].x).toFixed(1)},${py(0)}`,
      "aria-hidden": "true",
    });
    const line = svg("polyline", { class: "chart__line", points: coords.join(" "), "aria-hidden": "true" });
    root.append(area, line);
    const dots = svg("g", { class: "chart__dots", "aria-hidden": "true" });
    for (const p of points) {
      if (!p.synthetic) dots.append(svg("circle", { cx: px(p.x), cy: py(p.y), r: 3 }));
    }
    root.append(dots);
  }
  return root;
}
