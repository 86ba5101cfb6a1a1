import { describe, expect, it } from "vitest";
import { columnBlocks, tableToHtml, tableToText } from "../lib/display/index.js";

const rows = [
  { name: "emma", count: 5, p: 0.123456 },
  { name: "olivia", count: 12, p: 1 / 3 },
  { name: "<ava>", count: 7, p: 0.5 },
];

describe("columnBlocks", () => {
  it("packs columns greedily, each block starting with column 0", () => {
    // widths 4, 5, 6: all three need 4 + 2 + 5 + 2 + 6 = 19 characters
    expect(columnBlocks([4, 5, 6], 19)).toEqual([[0, 1, 2]]);
    expect(columnBlocks([4, 5, 6], 18)).toEqual([[0, 1], [0, 2]]);
    // 3 + 2 + 2 + 2 + 2 = 11 fits in 11 but not in 10
    expect(columnBlocks([3, 2, 2, 2, 2], 11)).toEqual([[0, 1, 2], [0, 3, 4]]);
    expect(columnBlocks([3, 2, 2, 2, 2], 10)).toEqual([[0, 1], [0, 2], [0, 3], [0, 4]]);
  });

  it("keeps a column wider than the line in a block of its own (after column 0)", () => {
    expect(columnBlocks([2, 50, 3], 20)).toEqual([[0, 1], [0, 2]]);
    expect(columnBlocks([7], 3)).toEqual([[0]]);
    expect(columnBlocks([], 10)).toEqual([[]]);
  });
});

describe("wide tables, as text", () => {
  it("prints columns that do not fit in blocks, repeating the first column", () => {
    // widths: name 6, count 5, p 6 ("0.1235"): 21 characters in all, so 15 gives two blocks
    expect(tableToText(rows, { maxWidth: 15 })).toBe(
      [
        "name    count",
        "------  -----",
        "emma        5",
        "olivia     12",
        "<ava>       7",
        "",
        "name         p",
        "------  ------",
        "emma    0.1235",
        "olivia  0.3333",
        "<ava>   0.5000",
      ].join("\n"),
    );
  });

  it("leaves a table that fits as one block", () => {
    expect(tableToText(rows, { maxWidth: 21 }).split("\n")).toHaveLength(5);
  });

  it("turns a single wide row on its side, one key/value line per column", () => {
    const row = [{ name: "emma", count: 3, p: 0.5 }];
    const expected = ["key    value", "-----  ------", "name   emma", "count  3", "p      0.5000"].join("\n");
    expect(tableToText(row, { maxWidth: 10 })).toBe(expected);
    expect(tableToText(row, { transpose: true })).toBe(expected);
    expect(tableToText(row)).toBe(["name  count       p", "----  -----  ------", "emma      3  0.5000"].join("\n"));
  });

  it("transposes a twenty-setting config by default, but never a slice of a longer table", () => {
    const config = Object.fromEntries(Array.from({ length: 20 }, (_, i) => [`setting_${String(i).padStart(2, "0")}`, i]));
    const lines = tableToText([config]).split("\n");
    expect(lines.slice(0, 3)).toEqual(["key         value", "----------  -----", "setting_00      0"]);
    expect(lines).toHaveLength(22);
    expect(lines[21]).toBe("setting_19     19");
    expect(tableToText([config], { transpose: false }).split("\n")[0]).toMatch(/^setting_00  setting_01/);
    expect(tableToText(rows, { maxRows: 1, maxWidth: 10 }).split("\n")[0]).toBe("name  count");
  });
});

describe("wide tables, as HTML", () => {
  it("scrolls sideways inside its own box instead of being cut off", () => {
    const html = tableToHtml(rows, { maxRows: 2 });
    expect(html.startsWith('<div style="overflow-x:auto;max-width:100%"><table>')).toBe(true);
    expect(html.endsWith("</div>")).toBe(true);
    expect(html).toContain("1 more row (3 in all)</p></div>");
  });

  it("transposes the same single rows as the text form", () => {
    const html = tableToHtml([{ name: "emma", count: 3, p: 0.5 }], { maxWidth: 10, digits: 2 });
    expect(html).toContain("<thead><tr><th>key</th><th>value</th></tr></thead>");
    expect(html).toContain("<tr><td>name</td><td>emma</td></tr>\n<tr><td>count</td><td>3</td></tr>\n<tr><td>p</td><td>0.50</td></tr>");
    expect(tableToHtml(rows, { maxWidth: 10 })).toContain("<th>name</th><th>count</th><th>p</th>");
  });
});
