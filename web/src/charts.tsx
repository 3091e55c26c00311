// Charts, drawn by Chart.js on a canvas. Every chart also has its figures
// in a table (screen readers, keyboard users, and the browser tests read
// the table), and the canvas carries a label saying what it shows.
import { useEffect, useRef } from "preact/hooks";
import {
  Chart, BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement,
  PointElement, DoughnutController, ArcElement, Legend, Tooltip,
} from "chart.js";
import type { ChartConfiguration } from "chart.js";

Chart.register(BarController, BarElement, CategoryScale, LinearScale, LineController, LineElement, PointElement, DoughnutController, ArcElement, Legend, Tooltip);
Chart.defaults.animation = false;
Chart.defaults.color = "#1f2937";
Chart.defaults.font.family = "system-ui, -apple-system, 'Segoe UI', Roboto, sans-serif";

// Colour-blind-safe palette (Okabe–Ito), dark enough on white.
export const palette = ["#0b5394", "#d55e00", "#009e73", "#cc79a7", "#e69f00", "#56b4e9", "#666666"];

export function ChartCanvas({ config, label, height = 260 }: { config: ChartConfiguration; label: string; height?: number }) {
  const ref = useRef<HTMLCanvasElement>(null);
  useEffect(() => {
    if (!ref.current) return;
    const c = new Chart(ref.current, { ...config, options: { responsive: true, maintainAspectRatio: false, ...config.options } });
    return () => c.destroy();
  }, [JSON.stringify(config.data), label]);
  return (
    <div class="chart" style={{ height: height + "px" }}>
      <canvas ref={ref} role="img" aria-label={label} />
    </div>
  );
}

// A line at 100 % drawn across the chart, so a bar that passes it shows.
export const hundredLine = {
  id: "hundredLine",
  afterDatasetsDraw(chart: Chart) {
    const y = chart.scales.y;
    if (!y || y.max < 100) return;
    const { ctx, chartArea } = chart;
    const py = y.getPixelForValue(100);
    ctx.save();
    ctx.strokeStyle = "#111827";
    ctx.setLineDash([6, 4]);
    ctx.beginPath();
    ctx.moveTo(chartArea.left, py);
    ctx.lineTo(chartArea.right, py);
    ctx.stroke();
    ctx.restore();
  },
};
