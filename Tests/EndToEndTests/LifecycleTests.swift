import Foundation
import Testing

// The life of a run after `train`: training on from its weights, evaluating and
// predicting on new files, resuming it from elsewhere. Each on data the test writes.

@Suite("a run's life after train: trained on, evaluated, predicted, resumed")
struct LifecycleTests {
    /// `train --json` with SGD at a learning rate too small to change the weights, so that
    /// a run continued from trained weights must give their test result again.
    static func continued(_ flags: [String]) throws -> Run {
        try Run(["train", "--optimizer", "sgd", "--lr", "1e-9", "--epochs", "1", "--batch-size", "32", "--seed", "1",
                 "--threads", "1", "--json"] + flags)
    }

    @Test("training on from a run's weights keeps that run's standardisation of the features and the target, even on data of other statistics; --standardize and --no-standardize-target get a note")
    func startingPointKeepsPreprocessing() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = { (name: String) in directory.appendingPathComponent(name) }
        let columns = OwnData.features + ["label"]
        let examples = OwnData.blobs(300, seed: 21)
        // Other statistics: every example of class 0 and only five of each other class.
        var counts = [0, 0, 0]
        let skewed = examples.filter { example in
            counts[example.label] += 1
            return example.label == 0 || counts[example.label] <= 5
        }
        try OwnData.writeCSV(file("train.csv"), columns: columns, rows: OwnData.rows(examples))
        try OwnData.writeCSV(file("skewed.csv"), columns: columns, rows: OwnData.rows(skewed))
        try OwnData.writeCSV(file("test.csv"), columns: columns, rows: OwnData.rows(OwnData.blobs(90, seed: 22)))
        let base = try OwnData.train(["--data", "csv:\(file("train.csv").path)", "--target", "label", "--standardize",
                                      "--test-data", "csv:\(file("test.csv").path)", "--model", "4-8:relu-3:softmax",
                                      "--epochs", "5", "--json", "--out", file("base").path])
        #expect(base.status == 0, "\(base.error)")
        let loss = try #require(OwnData.finalJSON(base)?["test_loss"] as? Double, "\(base.output)")
        let preprocessing = try #require(OwnData.modelJSON(file("base"))["preprocessing"] as? [String: Any])
        for (name, extra) in [("plain", []), ("asked", ["--standardize"])] {
            let run = try Self.continued(["--data", "csv:\(file("skewed.csv").path)", "--target", "label", "--model", file("base").path,
                                          "--test-data", "csv:\(file("test.csv").path)", "--out", file(name).path] + extra)
            #expect(run.status == 0, "\(name): \(run.error)")
            let again = try #require(OwnData.finalJSON(run)?["test_loss"] as? Double, "\(name): \(run.output)")
            #expect(abs(again - loss) < 1e-4, "\(name): test loss \(again), the trained run's \(loss)")
            let kept = try OwnData.modelJSON(file(name))["preprocessing"] as? [String: Any]
            #expect(kept.map { NSDictionary(dictionary: $0).isEqual(to: preprocessing) } == true, "\(name): \(String(describing: kept))")
            #expect(run.error == (extra.isEmpty ? "" : "backprop: note: --standardize: the features are standardised with \(file("base").path)'s own mean and standard deviation (of the data it was trained on), which its weights take, not with this data's\n"),
                    "\(name): \(run.error)")
        }
        // A regression target: the run's target standardisation is kept, and its R² with it.
        let prices = { (count: Int, seed: UInt64) in OwnData.rows(OwnData.prices(count, seed: seed)) }
        let priceColumns = ["size", "age", "floor", "price"]
        try OwnData.writeCSV(file("prices.csv"), columns: priceColumns, rows: prices(200, 23))
        try OwnData.writeCSV(file("cheap.csv"), columns: priceColumns,
                             rows: prices(200, 24).filter { Double($0["price"]!)! < 1000 })
        try OwnData.writeCSV(file("prices-test.csv"), columns: priceColumns, rows: prices(60, 25))
        let priced = try OwnData.train(["--data", "csv:\(file("prices.csv").path)", "--target", "price",
                                        "--test-data", "csv:\(file("prices-test.csv").path)", "--model", "3-1",
                                        "--epochs", "20", "--json", "--out", file("price").path])
        #expect(priced.status == 0, "\(priced.error)")
        let r2 = try #require(OwnData.finalJSON(priced)?["test_r2"] as? Double, "\(priced.output)")
        let run = try Self.continued(["--data", "csv:\(file("cheap.csv").path)", "--target", "price", "--model", file("price").path,
                                      "--no-standardize-target", "--test-data", "csv:\(file("prices-test.csv").path)",
                                      "--out", file("cheap").path])
        #expect(run.status == 0, "\(run.error)")
        #expect(run.error == "backprop: note: --no-standardize-target: \(file("price").path) predicts standardised targets, and goes on doing so with its own mean and standard deviation\n",
                "\(run.error)")
        let again = try #require(OwnData.finalJSON(run)?["test_r2"] as? Double, "\(run.output)")
        #expect(abs(again - r2) < 1e-4, "test R² \(again), the trained run's \(r2)")
        let target = { (run: String) in try OwnData.modelJSON(file(run))["targetPreprocessing"] as? [String: Any] }
        #expect(try target("cheap").map { NSDictionary(dictionary: $0).isEqual(to: try target("price") ?? [:]) } == true)
    }
}

extension LifecycleTests {
    @Test("evaluate and predict on toy:NAME score the run's own test split (seed, samples and noise from its run.json), or the draw --seed, --samples, --noise give, and say which")
    func toyTestSplit() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let out = directory.appendingPathComponent("moons")
        let trained = try Run(["train", "--data", "toy:moons", "--model", "2-16:relu-2:softmax", "--epochs", "3", "--samples", "150",
                               "--noise", "0.3", "--seed", "5", "--threads", "1", "--json", "--out", out.path])
        #expect(trained.status == 0, "\(trained.error)")
        let result = try #require(OwnData.finalJSON(trained), "\(trained.output)")
        let loss = try #require(result["test_loss"] as? Double), accuracy = try #require(result["test_accuracy"] as? Double)
        let evaluated = try Run(["evaluate", "--model", out.path, "--data", "toy:moons"])
        #expect(evaluated.status == 0, "\(evaluated.error)")
        #expect(OwnData.metric("examples", in: evaluated.output) == 150, "\(evaluated.output)")
        #expect(OwnData.metric("loss", in: evaluated.output).map { abs($0 - loss) < 1e-3 } == true, "\(evaluated.output), trained \(loss)")
        #expect(OwnData.metric("accuracy", in: evaluated.output).map { abs($0 - accuracy) < 1e-3 } == true, "\(evaluated.output)")
        #expect(evaluated.error == "backprop: note: toy:moons: the run's own test split (--seed 5, --samples 150, --noise 0.3, from its run.json)\n",
                "\(evaluated.error)")
        let predicted = try Run(["predict", "--model", out.path, "--data", "toy:moons"])
        #expect(predicted.status == 0, "\(predicted.error)")
        let (problems, classes) = OwnData.classPredictionProblems(predicted.output, names: ["0", "1"], count: 150)
        #expect(problems.isEmpty, "\(problems)")
        #expect(classes.count == 150)
        // Another draw, asked for: other examples, and the note names it.
        let other = try Run(["evaluate", "--model", out.path, "--data", "toy:moons", "--seed", "6", "--samples", "100"])
        #expect(other.status == 0, "\(other.error)")
        #expect(OwnData.metric("examples", in: other.output) == 100, "\(other.output)")
        #expect(other.error == "backprop: note: toy:moons: the test split train draws with --seed 6, --samples 100, --noise 0.3 (the run's own values where no flag gives one)\n",
                "\(other.error)")
        // A model.json alone, without its run.json: train's defaults, said so.
        let bare = directory.appendingPathComponent("bare")
        try FileManager.default.createDirectory(at: bare, withIntermediateDirectories: true)
        for name in ["model.json", "model.safetensors"] {
            try FileManager.default.copyItem(at: out.appendingPathComponent(name), to: bare.appendingPathComponent(name))
        }
        let defaults = try Run(["evaluate", "--model", bare.path, "--data", "toy:moons"])
        #expect(defaults.status == 0, "\(defaults.error)")
        #expect(OwnData.metric("examples", in: defaults.output) == 400, "\(defaults.output)")
        #expect(defaults.error == "backprop: note: toy:moons: the test split train draws with --seed 42, --samples 400, --noise 0.1 (the set's own) (train's defaults where no flag gives one: \(bare.path) records no run on toy:moons)\n",
                "\(defaults.error)")
        // The flags are for toy data only.
        let csv = directory.appendingPathComponent("data.csv")
        try OwnData.writeCSV(csv, columns: ["x", "y", "label"], rows: [["x": "1", "y": "2", "label": "0"]])
        let refused = try Run(["predict", "--model", out.path, "--data", "csv:\(csv.path)", "--seed", "3"])
        #expect(refused.status != 0 && !refused.crashed)
        #expect(refused.error == "backprop: --seed, --samples and --noise are for toy data (--data toy:NAME) (see --help)\n", "\(refused.error)")
    }
}

extension LifecycleTests {
    @Test("--resume from another working directory reads the run's relative paths from the one it started in, and ends as a run never stopped; missing data is one line naming the path tried; evaluate on the unfinished run says how to finish it")
    func resumeFromElsewhere() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let start = directory.appendingPathComponent("start"), elsewhere = directory.appendingPathComponent("elsewhere")
        for folder in [start.appendingPathComponent("data"), elsewhere] {
            try FileManager.default.createDirectory(at: folder, withIntermediateDirectories: true)
        }
        let columns = OwnData.features + ["label"]
        try OwnData.writeCSV(start.appendingPathComponent("data/train.csv"), columns: columns, rows: OwnData.rows(OwnData.blobs(300, seed: 31)))
        try OwnData.writeCSV(start.appendingPathComponent("data/test.csv"), columns: columns, rows: OwnData.rows(OwnData.blobs(60, seed: 32)))
        let flags = ["train", "--data", "csv:data/train.csv", "--target", "label", "--test-data", "csv:data/test.csv",
                     "--model", "4-16:relu-3:softmax", "--batch-size", "1", "--epochs", "20", "--threads", "1", "--quiet"]
        let status = try ResumeTests.interruptedRun(flags.filter { $0 != "--quiet" } + ["--out", "stopped"], in: start).status
        #expect(status == 130)
        let stopped = start.appendingPathComponent("stopped")
        #expect(OwnData.fileExists(stopped, "checkpoint.safetensors"))
        // Not finished: evaluate and predict say so, and how to finish it, as compare does.
        for command in ["evaluate", "predict"] {
            let early = try Run([command, "--model", stopped.path, "--data", "csv:\(start.path)/data/test.csv"])
            #expect(early.status != 0 && !early.crashed)
            #expect(early.error == "backprop: --model: \(stopped.path) is a run that was interrupted before it finished (it holds checkpoint.safetensors, no model.safetensors yet); finish it with backprop train --resume \(stopped.path)\n",
                    "\(command): \(early.error)")
        }
        let killed = directory.appendingPathComponent("killed")
        try FileManager.default.createDirectory(at: killed, withIntermediateDirectories: true)
        try FileManager.default.copyItem(at: stopped.appendingPathComponent("run.json"), to: killed.appendingPathComponent("run.json"))
        let none = try Run(["evaluate", "--model", killed.path, "--data", "csv:\(start.path)/data/test.csv"])
        #expect(none.status != 0 && !none.crashed)
        #expect(none.error == "backprop: --model: \(killed.path) is a run that ended before it saved a model (killed, or failed: it holds run.json alone); train it again\n",
                "\(none.error)")
        let resumed = try Run(["train", "--resume", stopped.path, "--quiet"], directory: elsewhere)
        #expect(resumed.status == 0, "\(resumed.error)")
        let straight = try Run(flags + ["--out", "straight"], directory: start)
        #expect(straight.status == 0, "\(straight.error)")
        let weights = try ["stopped", "straight"].map { try Data(contentsOf: start.appendingPathComponent("\($0)/model.safetensors")) }
        #expect(weights[0] == weights[1], "resumed elsewhere, the weights differ from the run never stopped")
        // The recorded data gone: one line naming the flag, the recorded path and the one tried.
        try FileManager.default.removeItem(at: start.appendingPathComponent("data/test.csv"))
        let missing = try Run(["train", "--resume", stopped.path], directory: elsewhere)
        #expect(missing.status != 0 && !missing.crashed)
        #expect(missing.error == "backprop: --resume: the run reads --test-data csv:data/test.csv, relative to \(start.path), where it started; \(start.path)/data/test.csv does not exist\n",
                "\(missing.error)")
    }
}

extension LifecycleTests {
    @Test("predict leaves a target column out unread, with a note: empty, '?' or a class never seen predict as a file without it")
    func predictIgnoresTarget() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try OwnClassesTests.writeBlobFiles(in: directory, names: OwnData.irisNames)
        let trained = try OwnClassesTests.trainBlobs(in: directory, extra: ["--epochs", "3"])
        #expect(trained.status == 0, "\(trained.error)")
        let run = directory.appendingPathComponent("run")
        let rows = OwnData.rows(OwnData.blobs(20, seed: 41))
        let bare = directory.appendingPathComponent("bare.csv")
        try OwnData.writeCSV(bare, columns: OwnData.features, rows: rows)
        let expected = try Run(["predict", "--model", run.path, "--data", "csv:\(bare.path)"])
        #expect(expected.status == 0 && expected.error.isEmpty, "\(expected.error)")
        for (name, label) in [("empty", ""), ("unknown", "?"), ("new", "tundra")] {
            let file = directory.appendingPathComponent("\(name).csv")
            try OwnData.writeCSV(file, columns: ["label"] + OwnData.features, rows: rows.map { $0.merging(["label": label]) { $1 } })
            let predicted = try Run(["predict", "--model", run.path, "--data", "csv:\(file.path)"])
            #expect(predicted.status == 0, "\(name): \(predicted.error)")
            #expect(predicted.output == expected.output, "\(name): \(predicted.output.prefix(200))")
            #expect(predicted.error == "backprop: note: \(file.path): column 'label' is the target, left out unread: predictions need only the features\n",
                    "\(name): \(predicted.error)")
        }
        // A regression target of '?': the same.
        let prices = directory.appendingPathComponent("prices.csv"), asked = directory.appendingPathComponent("asked.csv")
        let priceRows = OwnData.rows(OwnData.prices(60, seed: 42))
        try OwnData.writeCSV(prices, columns: ["size", "age", "floor", "price"], rows: priceRows)
        try OwnData.writeCSV(asked, columns: ["size", "age", "floor", "price"], rows: priceRows.map { $0.merging(["price": "?"]) { $1 } })
        let priced = try OwnData.train(["--data", "csv:\(prices.path)", "--target", "price", "--model", "3-1", "--epochs", "1",
                                        "--quiet", "--out", directory.appendingPathComponent("price").path])
        #expect(priced.status == 0, "\(priced.error)")
        let predicted = try Run(["predict", "--model", directory.appendingPathComponent("price").path, "--data", "csv:\(asked.path)"])
        #expect(predicted.status == 0 && predicted.output.split(separator: "\n").count == 61, "\(predicted.error)")
    }
}

extension LifecycleTests {
    @Test("predict and evaluate leave out columns that are not features (an ID), naming them in a note; a missing feature is one line")
    func extraColumns() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try OwnClassesTests.writeBlobFiles(in: directory)
        let trained = try OwnClassesTests.trainBlobs(in: directory, extra: ["--epochs", "3"])
        #expect(trained.status == 0, "\(trained.error)")
        let run = directory.appendingPathComponent("run")
        let rows = OwnData.rows(OwnData.blobs(30, seed: 51)).enumerated().map { $1.merging(["id": "row\($0)", "site": "north"]) { $1 } }
        let plain = directory.appendingPathComponent("plain.csv"), extra = directory.appendingPathComponent("extra.csv")
        try OwnData.writeCSV(plain, columns: OwnData.features + ["label"], rows: rows)
        try OwnData.writeCSV(extra, columns: ["id"] + OwnData.features + ["label", "site"], rows: rows)
        let note = "backprop: note: \(extra.path): 2 columns are not features of the model ('id', 'site'), left out; its features: \(OwnData.features.joined(separator: ", "))\n"
        for command in ["evaluate", "predict"] {
            let expected = try Run([command, "--model", run.path, "--data", "csv:\(plain.path)"])
            let got = try Run([command, "--model", run.path, "--data", "csv:\(extra.path)"])
            #expect(expected.status == 0 && got.status == 0, "\(command): \(got.error)")
            #expect(got.output == expected.output, "\(command): \(got.output.prefix(200))")
            #expect(got.error == note + (command == "predict" ? "backprop: note: \(extra.path): column 'label' is the target, left out unread: predictions need only the features\n" : ""),
                    "\(command): \(got.error)")
        }
        // A missing feature: one line, its list of columns without a stray comma.
        let missing = directory.appendingPathComponent("missing.csv")
        try OwnData.writeCSV(missing, columns: ["alpha", "gamma", "delta", "label"], rows: rows)
        let refused = try Run(["predict", "--model", run.path, "--data", "csv:\(missing.path)"])
        #expect(refused.status != 0 && !refused.crashed)
        #expect(refused.error == "backprop: \(missing.path): no column 'beta', a feature of the model (columns: alpha, gamma, delta, label)\n",
                "\(refused.error)")
    }
}

extension LifecycleTests {
    @Test("--class-names names integer labels that are not 0..<K (10, 11, 12) in numeric order, with a note; evaluate's matrix and predict's rows show names or labels, never an index")
    func namesForIntegerLabels() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        let labels = try OwnClassesTests.writeBlobFiles(in: directory, names: ["10", "11", "12"])
        let train = directory.appendingPathComponent("train.csv"), test = directory.appendingPathComponent("test.csv")
        let named = try OwnClassesTests.trainBlobs(in: directory, out: "named", extra: ["--class-names", "a,b,c"])
        #expect(named.status == 0, "\(named.error)")
        #expect(named.error == "backprop: note: \(train.path): the labels are 3 integers, not 0..<3: the class names name them in numeric order (10 → a, 11 → b, 12 → c)\n",
                "\(named.error)")
        let result = try #require(OwnData.finalJSON(named), "\(named.output)")
        #expect(result["classes"] as? [String] == ["a", "b", "c"], "\(result)")
        let accuracy = try #require(result["test_accuracy"] as? Double)
        #expect(accuracy >= 0.9, "\(result)")
        // A run on the integers themselves, and the named one: evaluate and predict show
        // the labels or the names in the matrix and in each row.
        let plain = try OwnClassesTests.trainBlobs(in: directory, out: "plain")
        #expect(plain.status == 0, "\(plain.error)")
        for (run, names) in [("named", ["a", "b", "c"]), ("plain", ["10", "11", "12"])] {
            let model = directory.appendingPathComponent(run).path
            let evaluated = try Run(["evaluate", "--model", model, "--data", "csv:\(test.path)"])
            #expect(evaluated.status == 0, "\(run): \(evaluated.error)")
            let score = try #require(OwnData.metric("accuracy", in: evaluated.output), "\(evaluated.output)")
            let problems = OwnData.confusionProblems(evaluated.output, names: names, examples: 120, accuracy: score)
            #expect(problems.isEmpty, "\(run): \(problems)\n\(evaluated.output)")
            let predicted = try Run(["predict", "--model", model, "--data", "csv:\(test.path)"])
            #expect(predicted.status == 0, "\(run): \(predicted.error)")
            let (rows, classes) = OwnData.classPredictionProblems(predicted.output, names: names, count: 120)
            #expect(rows.isEmpty, "\(run): \(rows)\n\(predicted.output.prefix(300))")
            #expect(abs(OwnData.accuracy(classes, labels) - score) < 1e-3, "\(run)")
        }
        // Fewer distinct integers than names: which label fails, and why.
        let two = directory.appendingPathComponent("two.csv")
        try OwnData.writeCSV(two, columns: OwnData.features + ["label"],
                             rows: OwnData.rows(OwnData.blobs(30, classes: 2, seed: 61), names: ["1", "5"]))
        let refused = try Run(["train", "--data", "csv:\(two.path)", "--target", "label", "--class-names", "a,b,c",
                               "--model", "4-3:softmax", "--epochs", "1", "--out", directory.appendingPathComponent("refused").path])
        #expect(refused.status != 0 && !refused.crashed)
        #expect(refused.error == "backprop: \(two.path): label '5' is neither one of the 3 class names nor an index 0..<3 into them (integer labels outside 0..<3 are named in numeric order when there are 3 distinct ones; here there are 2)\n",
                "\(refused.error)")
    }
}

extension LifecycleTests {
    @Test("run.json records the final result (the test set's, or the training set's without one), and compare shows the test results")
    func resultInRunDirectory() throws {
        let directory = try OwnData.scratchDirectory()
        defer { try? FileManager.default.removeItem(at: directory) }
        _ = try OwnClassesTests.writeBlobFiles(in: directory)
        let tested = try OwnClassesTests.trainBlobs(in: directory, out: "tested", extra: ["--epochs", "3"])
        #expect(tested.status == 0, "\(tested.error)")
        let final = try #require(OwnData.finalJSON(tested), "\(tested.output)")
        let train = directory.appendingPathComponent("train.csv")
        let untested = try OwnData.train(["--data", "csv:\(train.path)", "--target", "label", "--model", "4-16:relu-3:softmax",
                                          "--epochs", "2", "--quiet", "--out", directory.appendingPathComponent("untested").path])
        #expect(untested.status == 0, "\(untested.error)")
        func result(_ run: String) throws -> [String: Any] {
            let data = try Data(contentsOf: directory.appendingPathComponent("\(run)/run.json"))
            let object = try #require(try JSONSerialization.jsonObject(with: data) as? [String: Any])
            return try #require(object["result"] as? [String: Any], "\(object)")
        }
        let record = try result("tested")
        #expect(record["set"] as? String == "test" && record["examples"] as? Int == 120, "\(record)")
        for key in ["loss", "accuracy"] {
            #expect((record[key] as? Double).map { abs($0 - (final["test_\(key)"] as? Double ?? .nan)) < 1e-9 } == true, "\(key): \(record)")
        }
        #expect(try result("untested")["set"] as? String == "training")
        let compared = try Run(["compare", directory.appendingPathComponent("tested").path, directory.appendingPathComponent("untested").path,
                                "--out", directory.appendingPathComponent("compare.html").path])
        #expect(compared.status == 0, "\(compared.error)")
        let lines = compared.output.split(separator: "\n").map(String.init)
        #expect(lines.first?.contains("test loss  test accuracy") == true, "\(compared.output)")
        let loss = String(format: "%.4f", final["test_loss"] as? Double ?? .nan), accuracy = String(format: "%.4f", final["test_accuracy"] as? Double ?? .nan)
        let last = { (run: String) in lines.first { $0.hasPrefix("\(run) ") }.map { $0.split(separator: " ").suffix(2).map(String.init) } }
        #expect(last("tested") == [loss, accuracy], "\(compared.output)")
        #expect(last("untested") == ["–", "–"], "\(compared.output)")
        let page = try String(contentsOf: directory.appendingPathComponent("compare.html"), encoding: .utf8)
        #expect(page.contains("<th>test loss</th><th>test accuracy</th>") && page.contains("<td>\(loss)</td><td>\(accuracy)</td>"))
    }
}
