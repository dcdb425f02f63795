// @cs336/web — a trained CS336 Transformer LM as a static page that generates text with onnxruntime-web.
export { END_OF_TEXT, ORT_FILES, exportWebSite, siteTokenizer } from './export-web.js';
export type { ExportWebOptions, ExportWebResult } from './export-web.js';
export { bakeParameters } from '@cs336/graph';
export type { ExternalWeights } from '@cs336/graph';
export { serveSite } from './serve-site.js';
export type { ServeSiteOptions, SiteServer } from './serve-site.js';
export { EXTERNAL_WEIGHTS_LOCATION, ORT_DIR, SITE_FORMAT, SITE_MANIFEST_FILE, WEIGHTS_MODES } from './site-manifest.js';
export type { SiteManifest, SiteParameter, WeightsMode } from './site-manifest.js';
