/**
 * Plain-text tables: columns aligned, numbers right-aligned, a rule under the header.
 */
import type { Cell, Table } from "./Suite.js"

const text = (cell: Cell): string => (cell === null ? "–" : typeof cell === "number" ? String(cell) : cell)

const numeric = (cell: Cell): boolean =>
  typeof cell === "number" || (typeof cell === "string" && (cell.trim() === "–" || cell.trim() === "") || typeof cell === "string" && /^[-+]?[\d,.]+\s*(?:[%×a-zA-Zµ/]+(?:\/s)?)?$/.test(cell.trim()))

export const render = (table: Table): string => {
  const header = table.columns.map(String)
  const body = table.rows.map((row) => header.map((_, i) => text(row[i] ?? null)))
  const widths = header.map((h, i) => Math.max(h.length, ...body.map((row) => row[i]!.length)))
  const rightAligned = header.map((_, i) => i > 0 && table.rows.length > 0 && table.rows.every((row) => row[i] === null || row[i] === undefined || numeric(row[i]!)))
  const line = (cells: ReadonlyArray<string>) =>
    cells.map((cell, i) => (rightAligned[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join("  ").trimEnd()
  const out = [table.title, "", line(header), widths.map((w) => "─".repeat(w)).join("  "), ...body.map(line)]
  for (const note of table.notes ?? []) out.push(`  ${note}`)
  return out.join("\n")
}
