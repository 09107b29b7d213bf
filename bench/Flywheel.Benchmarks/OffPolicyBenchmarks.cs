using BenchmarkDotNet.Attributes;
using Flywheel.Evaluation;
using Flywheel.Core;

namespace Flywheel.Benchmarks;

/// <summary>
/// Off-policy evaluation over 10,000,000 logged decisions held in memory (logged and target probabilities, weights,
/// rewards in {0, 1}): IPS and SNIPS with their Gaussian intervals and the ESS by the vectorized two-pass span path,
/// from precomputed weights (baseline) and from the two probability columns, against the one-pass streaming
/// accumulator fed row by row (which also carries DM, DR and the Clopper–Pearson statistics). Times are per decision
/// (<c>OperationsPerInvoke</c>): 20 million decisions/s per core is 50 ns. None of them may allocate.
/// </summary>
[MemoryDiagnoser]
[SimpleJob(launchCount: 1, warmupCount: 3, iterationCount: 10)]
public class OffPolicyBenchmarks
{
    private const int Decisions = 10_000_000;
    private double[] _logged = null!;
    private double[] _target = null!;
    private double[] _weights = null!;
    private double[] _rewards = null!;

    [GlobalSetup]
    public void Setup()
    {
        var random = new Random(17);
        _logged = new double[Decisions];
        _target = new double[Decisions];
        _weights = new double[Decisions];
        _rewards = new double[Decisions];
        for (var i = 0; i < Decisions; i++)
        {
            // A logging policy that explores (p ≥ 0.05) and a target that mostly agrees with it.
            _logged[i] = 0.05 + 0.95 * random.NextDouble();
            _target[i] = random.NextDouble() < 0.7 ? Math.Min(1, _logged[i] * (0.5 + random.NextDouble())) : 0;
            _weights[i] = _target[i] / _logged[i];
            _rewards[i] = random.NextDouble() < 0.3 ? 1 : 0;
        }
    }

    [Benchmark(Baseline = true, OperationsPerInvoke = Decisions)]
    public double IpsSnips_Weights() => OffPolicyMath.IpsSnips(_weights, _rewards).Snips.Value;

    [Benchmark(OperationsPerInvoke = Decisions)]
    public double IpsSnips_Probabilities() => OffPolicyMath.IpsSnips(_logged, _target, _rewards).Snips.Value;

    [Benchmark(OperationsPerInvoke = Decisions)]
    public double Accumulator_RowByRow()
    {
        var accumulator = new OffPolicyAccumulator();
        var weights = _weights;
        var rewards = _rewards;
        for (var i = 0; i < weights.Length; i++)
        {
            accumulator.Add(weights[i], rewards[i], 0, 0);
        }
        return accumulator.SumOfWeightedRewards / accumulator.SumOfWeights;
    }
}
