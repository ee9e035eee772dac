import { describe, expect, it } from "vitest";
import { niceCeil } from "../components/charts/LineChart";
import { missingLabel, points, pointsLabel } from "./format";

describe("format", () => {
  it("names what an item lacks, with the Definition of Ready's own words", () => {
    const dor = [{ id: "acceptance-criteria", text: "Acceptance criteria written" }];
    expect(missingLabel("estimate", dor)).toBe("estimate");
    expect(missingLabel("dor:acceptance-criteria", dor)).toBe("Acceptance criteria written");
    expect(missingLabel("dor:gone", dor)).toBe("gone");
  });

  it("shows points", () => {
    expect(points(null)).toBe("–");
    expect(points(3)).toBe("3");
    expect(points(28.6667)).toBe("28.7");
    expect(pointsLabel(1)).toBe("1 point");
    expect(pointsLabel(0.5)).toBe("0.5 points");
  });

  it("rounds a chart's axis up to a readable number", () => {
    expect(niceCeil(58)).toBe(60);
    expect(niceCeil(7)).toBe(8);
    expect(niceCeil(101)).toBe(120);
    expect(niceCeil(1)).toBe(1);
  });
});
