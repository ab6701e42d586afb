/** Charts of the console (uPlot line charts, bars); the pieces live in ./charts. */
export { lineChart, type ChartElement, type ForecastPoint, type Point, type SeriesPoint } from './charts/line-chart';
export { bars } from './charts/bars';
