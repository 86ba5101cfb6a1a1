/** The built-in tasks, by the name a sweep file gives (task.ts lists the same names). */
import { teacherClassification, teacherRegression } from "./teacher.js";
import { charGPT } from "./char-gpt.js";

export const BUILTIN_TASKS = {
  "teacher-mse": teacherRegression,
  "teacher-ce": teacherClassification,
  "char-gpt": charGPT,
};
