import Foundation
import Testing
import Tensors
@testable import Datasets

@Suite("Standardisation")
struct StandardizationTests {
    @Test("per feature: μ and population σ of each column; σ = 0 only centres")
    func perFeature() throws {
        let x = Tensor<Float>([[1, 5, 2], [3, 5, 4], [5, 5, 9]])
        let s = Standardization(fittedTo: x)
        #expect(s.scope == .perFeature)
        #expect(s.mean == [3, 5, 5])
        // σ of (1, 3, 5) = √(8/3); of (2, 4, 9) = √(26/3).
        #expect(abs(s.standardDeviation[0] - (8.0 / 3).squareRoot()) < 1e-12)
        #expect(s.standardDeviation[1] == 0)
        let y = try s.applied(to: x)
        #expect(y.shape == [3, 3])
        #expect(abs(Double(y[0, 0]) + 2 / (8.0 / 3).squareRoot()) < 1e-6)
        #expect([y[0, 1], y[1, 1], y[2, 1]] == [0, 0, 0])
        let column2 = [y[0, 2], y[1, 2], y[2, 2]].map(Double.init)
        #expect(abs(column2.reduce(0, +)) < 1e-6)
        let squares: Double = column2.map { $0 * $0 }.reduce(0, +)
        #expect(abs(squares / 3 - 1) < 1e-6)
    }

    @Test("global: one μ and σ over all values, for images [N, 1, H, W]")
    func global() throws {
        let images = Tensor<Double>(shape: [2, 1, 1, 2], scalars: [0, 2, 4, 6])
        let s = Standardization(fittedTo: images, scope: .global)
        #expect(s.mean == [3] && s.standardDeviation == [Double(5).squareRoot()])
        let y = try s.applied(to: images)
        #expect(y.shape == [2, 1, 1, 2])
        #expect(abs(y.scalars[0] + 3 / Double(5).squareRoot()) < 1e-12)
        // Any shape works with global statistics.
        #expect(try s.applied(to: Tensor<Double>([3])).scalars == [0])
    }

    @Test("per channel: one μ and σ per channel of images [N, C, H, W] over every example and pixel, applied alike to the images flattened")
    func perChannel() throws {
        // Two examples, two channels of 1×2 pixels: channel 0 holds 0, 2 and 4, 6 (μ 3, σ √5),
        // channel 1 holds 10, 10 and 20, 20 (μ 15, σ 5).
        let images = Tensor<Double>(shape: [2, 2, 1, 2], scalars: [0, 2, 10, 10, 4, 6, 20, 20])
        let data = try Dataset(features: images)
        #expect(data.featureStandardizationScope == .perChannel)
        #expect(try Dataset(features: Tensor<Double>([[1, 2]])).featureStandardizationScope == .perFeature)
        let s = try data.standardizedWithOwnStatistics(features: data.featureStandardizationScope, targets: false).standardization
        #expect(s?.scope == .perChannel && s?.mean == [3, 15] && s?.standardDeviation == [Double(5).squareRoot(), 5])
        let r = 1 / Double(5).squareRoot()
        let expected: [Double] = [-3 * r, -r, -1, -1, r, 3 * r, 1, 1]
        let y = try #require(s).applied(to: images)
        #expect(y.shape == [2, 2, 1, 2] && zip(y.scalars, expected).allSatisfy { abs($0 - $1) < 1e-12 }, "\(y.scalars)")
        let flat = try #require(s).applied(to: images.reshaped(to: [2, 4]))
        #expect(flat.shape == [2, 4] && flat.scalars == y.scalars)
        #expect(try #require(s).restored(y).scalars.enumerated().allSatisfy { abs($1 - images.scalars[$0]) < 1e-12 })
        let error = #expect(throws: DatasetError.self) { try s?.applied(to: Tensor<Double>.zeros([1, 3, 1, 2])) }
        #expect(error?.description == "standardisation was fitted on images of 2 channels, the data has shape [1, 3, 1, 2]")
        let json = try JSONEncoder().encode(s)
        #expect(try JSONDecoder().decode(Standardization.self, from: json) == s)
    }

    @Test("stored with a model as JSON, restored equal; wrong feature count is a typed error")
    func codable() throws {
        let s = Standardization(fittedTo: Tensor<Float>([[1, 2], [3, 4]]))
        let json = try JSONEncoder().encode(s)
        #expect(try JSONDecoder().decode(Standardization.self, from: json) == s)
        let error = #expect(throws: DatasetError.self) { try s.applied(to: Tensor<Float>([[1, 2, 3]])) }
        #expect(error?.description == "standardisation was fitted on 2 features per example, the data has shape [1, 3]")
    }

    @Test("a stored standardisation that cannot be applied is refused when read, saying why", arguments: [
        (#"{"scope": "perFeature", "mean": [0, 1], "standardDeviation": [1]}"#, "2 means and 1 standard deviations"),
        (#"{"scope": "global", "mean": [0, 1], "standardDeviation": [1, 1]}"#, "a global standardisation has one mean, not 2"),
        (#"{"scope": "perFeature", "mean": [0, 1], "standardDeviation": [1, -2]}"#, "standard deviation 1 is -2.0; each is 0 (a constant feature) or a positive number"),
        (#"{"scope": "perFeature", "mean": [0], "standardDeviation": [1e-45]}"#, "standard deviation 0 is 1e-45; each is 0 (a constant feature) or a positive number"),
        (#"{"scope": "perFeature", "mean": [0], "standardDeviation": [1], "means": [1]}"#, "unknown key 'means'; expected one of mean, scope, standardDeviation"),
    ])
    func badStoredValues(json: String, reason: String) {
        let error = #expect(throws: DecodingError.self) { try JSONDecoder().decode(Standardization.self, from: Data(json.utf8)) }
        guard case .dataCorrupted(let context)? = error else { Issue.record("\(String(describing: error))"); return }
        #expect(context.debugDescription == reason)
    }

    @Test("a stored σ of 0 (a constant feature) reads back and only centres")
    func zeroDeviationReads() throws {
        let read = try JSONDecoder().decode(Standardization.self, from: Data(#"{"scope": "perFeature", "mean": [2, 1], "standardDeviation": [0, 2]}"#.utf8))
        #expect(try read.applied(to: Tensor<Float>([[5, 5]])).scalars == [3, 2])
    }

    @Test("Fashion-MNIST test split: global and per-pixel statistics agree with NumPy's")
    func fashionMNIST() throws {
        let test = try MNISTFormat.load(.test, as: Float.self)
        // NumPy, on the same images / 255: mean 0.28684928…, std 0.35244415…; pixel 400:
        // mean 0.40888157, std 0.35067377.
        let global = Standardization(fittedTo: test.images, scope: .global)
        #expect(abs(global.mean[0] - 0.2868492807122849) < 1e-7)
        #expect(abs(global.standardDeviation[0] - 0.35244415324744) < 1e-7)
        let perPixel = Standardization(fittedTo: test.dataset(flattened: true).features)
        #expect(perPixel.mean.count == 784)
        #expect(abs(perPixel.mean[400] - 0.40888156862745406) < 1e-7)
        #expect(abs(perPixel.standardDeviation[400] - 0.35067376859326155) < 1e-7)
        let standardized = try perPixel.applied(to: test.flattenedImages)
        #expect(standardized.shape == [10_000, 784])
        let column = (0..<10_000).map { Double(standardized.scalars[$0 * 784 + 400]) }
        #expect(abs(column.reduce(0, +) / 10_000) < 1e-5)
    }
}
