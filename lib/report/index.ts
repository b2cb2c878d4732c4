/** `--report`: a self-contained HTML page of a comparison (players, curves, heat maps). */
export { HtmlReport, reportPathClash, REPORT_FRAME_BUDGET, PAIR_FRAME_BUDGET, type ReportContent, type ReportPair } from './html_report.js'
export { PairRecorder, type PairMedia } from './pair_recorder.js'
export { frameViews, proxySize, heatGrid, DIFF_GAIN, PROXY_MAX_SIDE } from './frame_views.js'
