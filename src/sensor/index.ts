export { Pipeline, type PipelineOptions, type AnomalyCounts } from './pipeline.js';
