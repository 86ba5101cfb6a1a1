/**
 * Run profiles: notebooks and scripts run the same code under `COURSE_PROFILE=ci`
 * (few steps, for CI) and `full` (the default: the real experiment).
 */
export type Profile = "ci" | "full";

export function currentProfile(): Profile {
  const value = (process.env.COURSE_PROFILE ?? "full").toLowerCase();
  if (value !== "ci" && value !== "full") {
    throw new Error(`COURSE_PROFILE must be "ci" or "full", got "${value}"`);
  }
  return value;
}

/** Pick a setting by profile: `byProfile({ ci: 50, full: 5000 })`. */
export function byProfile<T>(choices: Record<Profile, T>): T {
  return choices[currentProfile()];
}

/** One line naming the profile that runs, for the top of every notebook's output. */
export function profileBanner(): string {
  return currentProfile() === "ci"
    ? "profile: ci (a few steps so CI can run every cell: the numbers below are not meaningful)"
    : "profile: full (the real run: the numbers below are the experiment's)";
}
