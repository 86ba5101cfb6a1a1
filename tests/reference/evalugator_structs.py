"""Check JSON files against Evalugator's EvalResult shape, independently of lib/evals' zod schemas.

The field lists are Evalugator's pydantic models (evalugator/structs.py: Sample, QA, MCQuestion,
SampleResult, SampleSetResult, EvalResult and the EvalSpecReduced and counts it dumps), written out
here by hand: each model's fields in the order pydantic dumps them, with the JSON types each allows.
Usage: python3 evalugator_structs.py FILE... [--extension NAME]...  Prints one line per file.
"""
import json
import sys

STR, NUM, NULL, LIST, DICT = (str,), (int, float), (type(None),), (list,), (dict,)

SAMPLE = [("id", STR), ("splits", DICT), ("comments", STR + NULL), ("scores", DICT), ("type", STR),
          ("extra_template_vars", DICT), ("created_by", STR), ("body", STR + LIST)]
BY_TYPE = {"QA": [("ideal_answers", LIST)],
           "MCQuestion": [("choices_right", LIST), ("choices_wrong", LIST), ("choices_order", LIST + NULL)]}
SAMPLE_RESULT = [("input", STR + LIST), ("other_output", STR + LIST + DICT + NULL), ("output", STR + LIST + DICT),
                 ("output_parsed", STR + NULL), ("output_correct", STR + LIST + NULL), ("sample", DICT + NULL),
                 ("score", NUM)]
EVAL_RESULT = [("created_at", STR), ("completer", STR + LIST + NULL), ("accuracy", NUM), ("counts", DICT + NULL),
               ("confusion_table", DICT + NULL), ("confusion_table_legend", STR), ("comments", STR + NULL),
               ("sample_results", LIST), ("id", STR), ("eval_spec", DICT + NULL), ("command_run", STR + NULL),
               ("created_by", STR), ("save_path", STR + NULL)]
COUNTS = ["total_correct", "total_incorrect", "incorrect_and_unparsable", "incorrect_and_parsable"]
EVAL_SPEC = ["id", "template", "extensions", "renderer", "parser"]


def check(where, obj, fields, extensions=()):
    names = [name for name, _ in fields]
    keys = list(obj)
    if keys[: len(names)] != names or any(k not in extensions for k in keys[len(names):]):
        raise ValueError(f"{where}: keys {keys}, Evalugator writes {names}")
    for name, types in fields:
        if not isinstance(obj[name], types) or isinstance(obj[name], bool):
            raise ValueError(f"{where}.{name}: {type(obj[name]).__name__} is not one of {[t.__name__ for t in types]}")


def check_file(path, extensions):
    result = json.load(open(path, encoding="utf-8"))
    check("EvalResult", result, EVAL_RESULT, extensions)
    if result["counts"] is not None and list(result["counts"]) != COUNTS:
        raise ValueError(f"EvalResult.counts: keys {list(result['counts'])}, Evalugator writes {COUNTS}")
    if result["eval_spec"] is not None and list(result["eval_spec"]) != EVAL_SPEC:
        raise ValueError(f"EvalResult.eval_spec: keys {list(result['eval_spec'])}, Evalugator writes {EVAL_SPEC}")
    for i, r in enumerate(result["sample_results"]):
        check(f"sample_results.{i}", r, SAMPLE_RESULT)
        if r["sample"] is not None:
            check(f"sample_results.{i}.sample", r["sample"], SAMPLE + BY_TYPE[r["sample"]["type"]])
    correct = sum(1 for r in result["sample_results"] if r["score"] == 1)
    if result["sample_results"] and abs(result["accuracy"] - correct / len(result["sample_results"])) > 1e-12:
        raise ValueError("EvalResult.accuracy is not the share of samples scored 1")
    return f"ok {len(result['sample_results'])} sample results"


if __name__ == "__main__":
    args, extensions, files = sys.argv[1:], [], []
    while args:
        arg = args.pop(0)
        if arg == "--extension":
            extensions.append(args.pop(0))
        else:
            files.append(arg)
    for path in files:
        try:
            print(f"{path}: {check_file(path, extensions)}")
        except (ValueError, KeyError) as error:
            print(f"{path}: {error}")
