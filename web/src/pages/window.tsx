import { useApp } from "../ui";

export const windows = [7, 28, 30, 90, 180];

// The activity window: a select that changes the page's address, so the
// choice survives a reload and the back button.
export function WindowPicker({ value, base }: { value: number; base: string }) {
  const { i } = useApp();
  return (
    <label class="inline">
      {i.t("window")}{" "}
      <select value={String(value)} onChange={(e) => { location.hash = `${base}?window=${(e.target as HTMLSelectElement).value}`; }}>
        {windows.map((w) => <option key={w} value={String(w)}>{i.t("days", { n: w })}</option>)}
      </select>
    </label>
  );
}
