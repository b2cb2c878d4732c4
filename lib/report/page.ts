/**
 * The report's HTML: one file with its styles, its script and its data inline, so it opens from
 * disk with no network. The command's --json result is embedded once, as is; the media block
 * holds the player's JPEG proxies and heat maps and points into the result for the numbers.
 */
import { PAGE_SCRIPT } from './page_script.js'

const STYLE = `
:root { color-scheme: light; font: 14px/1.4 system-ui, sans-serif; color: #1d1d1f; background: #f4f4f6; }
body { margin: 0 auto; max-width: 1200px; padding: 16px 24px 48px; }
h1 { font-size: 20px; margin: 8px 0 4px; } h2 { font-size: 17px; margin: 0 0 8px; } h3 { font-size: 14px; margin: 8px 0 4px; }
section { background: #fff; border-radius: 8px; padding: 14px 18px; margin: 14px 0; box-shadow: 0 1px 2px rgba(0,0,0,.08); }
pre.transcript { background: #f0f0f3; padding: 8px 10px; border-radius: 6px; white-space: pre-wrap; margin: 0 0 8px; }
table { border-collapse: collapse; font-variant-numeric: tabular-nums; }
th, td { text-align: left; padding: 2px 12px 2px 0; vertical-align: top; }
table.fields th { font-weight: 500; color: #555; } table.fields td { word-break: break-all; }
table.pairs tr:first-child th { border-bottom: 1px solid #ccc; } tr.failed td { color: #b00020; }
.files { color: #555; margin: 0 0 8px; word-break: break-all; }
.views { display: grid; grid-template-columns: repeat(3, 1fr); gap: 8px; }
.views figure, .charts figure { margin: 0; }
canvas.view { width: 100%; height: auto; background: #000; image-rendering: pixelated; display: block; }
figcaption { color: #555; font-size: 12px; margin-top: 2px; }
.controls { display: flex; align-items: center; gap: 8px; margin: 8px 0; flex-wrap: wrap; }
.controls .picker { flex: 1; min-width: 160px; } .frame-label { font-variant-numeric: tabular-nums; color: #333; }
button { font: inherit; padding: 3px 10px; border: 1px solid #bbb; border-radius: 5px; background: #fafafa; cursor: pointer; }
.charts { display: grid; grid-template-columns: 1fr 1fr; gap: 12px; }
svg.curve { width: 100%; height: 150px; cursor: crosshair; display: block; }
svg.curve .plot { fill: #fafafa; stroke: #ddd; } svg.curve text { font-size: 11px; fill: #666; }
svg.curve .line { fill: none; stroke: #2563eb; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
svg.curve .cursor { stroke: #dc2626; stroke-width: 1.5; vector-effect: non-scaling-stroke; }
.lower { display: grid; grid-template-columns: minmax(0, 360px) 1fr; gap: 24px; }
canvas.heatmap { width: 100%; max-width: 360px; image-rendering: pixelated; display: block; }
.legend-row { display: flex; align-items: center; gap: 6px; font-size: 12px; color: #555; margin-top: 4px; }
canvas.legend { width: 160px; height: 10px; image-rendering: pixelated; }
.worst-list button { text-align: left; } .worst-list button.current { border-color: #dc2626; background: #fff1f1; }
`

/** JSON for a <script> block: `<` escaped, so no `</script>` can end the block early. */
export function scriptJson(value: unknown, replacer?: (key: string, value: unknown) => unknown): string {
  return JSON.stringify(value, replacer).replace(/</g, '\\u003c')
}

function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`)
}

/** The page, in pieces to write one after the other (the media JSON can be tens of MB). */
export function pageParts(title: string, resultJson: string, mediaJson: string): string[] {
  return [
    '<!doctype html>\n<html lang="en">\n<head>\n<meta charset="utf-8">\n',
    // Nothing may load from anywhere: inline styles and scripts, data: images only.
    `<meta http-equiv="Content-Security-Policy" content="default-src 'none'; img-src data:; style-src 'unsafe-inline'; script-src 'unsafe-inline'">\n`,
    '<meta name="viewport" content="width=device-width, initial-scale=1">\n',
    `<title>${escapeHtml(title)}</title>\n<style>${STYLE}</style>\n</head>\n<body>\n`,
    `<h1>${escapeHtml(title)}</h1>\n<main id="report"></main>\n`,
    '<noscript>This report draws its players and charts with JavaScript; the numbers are in the JSON blocks of this file.</noscript>\n',
    '<script type="application/json" id="videovae-result">',
    resultJson,
    '</script>\n<script type="application/json" id="videovae-media">',
    mediaJson,
    `</script>\n<script>${PAGE_SCRIPT}</script>\n</body>\n</html>\n`,
  ]
}
