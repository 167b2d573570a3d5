// Numbers, sizes, times and durations as people read them.

export function count(n) {
  if (n === null || n === undefined || n === '') return '–';
  return Number(n).toLocaleString('en-US');
}

export function bytes(n) {
  if (n === null || n === undefined) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let value = Number(n);
  let unit = 0;
  while (value >= 1024 && unit < units.length - 1) {
    value /= 1024;
    unit += 1;
  }
  return `${unit === 0 ? value : value.toFixed(1)} ${units[unit]}`;
}

export function seconds(s) {
  if (s === null || s === undefined) return '–';
  const value = Number(s);
  if (value < 60) return `${value.toFixed(1)} s`;
  const minutes = Math.floor(value / 60);
  if (minutes < 60) return `${minutes} min ${Math.round(value % 60)} s`;
  return `${Math.floor(minutes / 60)} h ${minutes % 60} min`;
}

export function rate(rows, elapsed) {
  if (!elapsed || elapsed <= 0 || !rows) return '–';
  return `${count(Math.round(rows / elapsed))} rows/s`;
}

/** "2026-11-23T10:56:00Z" as "2026-11-23 10:56:00 UTC". */
export function time(text) {
  if (!text) return '–';
  return String(text).replace('T', ' ').replace(/\.\d+/, '').replace(/Z$/, ' UTC');
}

export function secondsBetween(start, end) {
  const a = Date.parse(start);
  const b = end ? Date.parse(end) : Date.now();
  return Number.isNaN(a) || Number.isNaN(b) ? null : Math.max(0, (b - a) / 1000);
}
