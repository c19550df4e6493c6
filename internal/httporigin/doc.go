// Package httporigin holds what the two readers of plain HTTP origins —
// URL lists (fs/urllist) and the fetch executor (agent/fetch) — share:
// the rule that pins every request of one copy to one version of a remote
// object (Version), and the reading of the headers that describe a ranged
// answer (ParseContentRange, AcceptsRanges).
//
// It knows nothing of sizes: each caller keeps its own rule for what a
// size that differs means (a wrong list, or a changed object). It imports
// only the standard library and fs (for fs.ErrChanged).
package httporigin
