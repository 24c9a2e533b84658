/// The one seedable generator behind every random choice (initialisation, shuffling,
/// dropout): xoshiro256** seeded through SplitMix64. The same seed gives the same
/// sequence on every platform; ``state`` can be saved and restored (checkpoints).
public struct RandomSource: RandomNumberGenerator, Sendable, Equatable {
    /// The generator's four 64-bit words of state; save them to resume the same sequence
    /// with ``init(state:)``.
    public private(set) var state: [UInt64]

    /// A generator whose sequence is fixed by `seed` (the same on every platform).
    public init(seed: UInt64) {
        var mix = seed
        state = (0..<4).map { _ in
            mix &+= 0x9E37_79B9_7F4A_7C15
            var z = mix
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
    }

    /// Restores a generator from a saved ``state``.
    public init(state: [UInt64]) {
        checkPrecondition(state.count == 4 && state.contains { $0 != 0 },
                     "RandomSource: a state is four words, not all zero")
        self.state = state
    }

    /// The next 64 random bits (xoshiro256**); advances ``state``.
    public mutating func next() -> UInt64 {
        let result = rotate(state[1] &* 5, 7) &* 9
        let t = state[1] << 17
        state[2] ^= state[0]
        state[3] ^= state[1]
        state[1] ^= state[2]
        state[0] ^= state[3]
        state[2] ^= t
        state[3] = rotate(state[3], 45)
        return result
    }

    private func rotate(_ x: UInt64, _ k: UInt64) -> UInt64 { (x << k) | (x >> (64 - k)) }

    /// Uniform in [0, 1), with 53 random bits.
    public mutating func nextUnitInterval() -> Double {
        Double(next() >> 11) * 0x1.0p-53
    }

    /// Standard normal values (Box–Muller, both outputs used).
    public mutating func nextNormals(count: Int) -> [Double] {
        var values: [Double] = []
        values.reserveCapacity(count + 1)
        while values.count < count {
            let u1 = 1 - nextUnitInterval()  // (0, 1]: log stays finite
            let u2 = nextUnitInterval()
            let radius = (-2 * _log(u1)).squareRoot()
            values.append(radius * _cos(2 * .pi * u2))
            values.append(radius * _sin(2 * .pi * u2))
        }
        return Array(values.prefix(count))
    }
}

#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

private func _log(_ x: Double) -> Double { log(x) }
private func _cos(_ x: Double) -> Double { cos(x) }
private func _sin(_ x: Double) -> Double { sin(x) }

extension Tensor {
    /// Values drawn from N(mean, standardDeviation²).
    public static func randomNormal(
        _ shape: [Int], mean: Scalar = 0, standardDeviation: Scalar = 1,
        using generator: inout RandomSource
    ) -> Tensor {
        let count = shape.reduce(1, *)
        let (m, s) = (Double(mean), Double(standardDeviation))
        return Tensor(shape: shape, scalars: generator.nextNormals(count: count).map { Scalar(m + s * $0) })
    }

    /// Values drawn uniformly from [lowerBound, upperBound).
    public static func randomUniform(
        _ shape: [Int], lowerBound: Scalar = 0, upperBound: Scalar = 1,
        using generator: inout RandomSource
    ) -> Tensor {
        let (a, b) = (Double(lowerBound), Double(upperBound))
        let values = (0..<shape.reduce(1, *)).map { _ in
            Scalar(a + (b - a) * generator.nextUnitInterval())
        }
        return Tensor(shape: shape, scalars: values)
    }
}

extension RandomSource {
    /// A seeded permutation of 0..<count (Fisher–Yates).
    public mutating func permutation(_ count: Int) -> [Int] {
        var order = Array(0..<count)
        for i in stride(from: count - 1, to: 0, by: -1) {
            let j = Int(next() % UInt64(i + 1))
            order.swapAt(i, j)
        }
        return order
    }
}
