namespace Flywheel.Evaluation.Health;

/// <summary>
/// The Page–Hinkley test (E. S. Page, "Continuous Inspection Schemes", Biometrika 1954), in the streaming form of
/// scikit-multiflow's PageHinkley detector: it watches a stream for a rise of its mean. After each value x_t
/// (t = 1, 2, …) it updates the running mean x̄_t = x̄_{t−1} + (x_t − x̄_{t−1})/t and the cumulative deviation
/// S_t = max(0, α·S_{t−1} + x_t − x̄_t − δ), and signals drift when t ≥ <see cref="MinimumSamples"/> and
/// S_t &gt; λ. δ is the magnitude of change tolerated, λ the detection threshold, and α ≤ 1 a forgetting factor that
/// lets old deviations fade. After a drift the next value starts afresh (t = 1, x̄ = 0, S = 0), as in the reference.
/// <para>
/// One-sided: only increases are detected (an error rate going up). To detect drops (a reward going down) use
/// <see cref="ForDrops"/>, which feeds −x. The reference checks its sample counter after incrementing a counter
/// that starts at 1, so its min_instances = 30 lets the 29th value signal; here drift needs t ≥ MinimumSamples
/// values, as the parameter's name says.
/// </para>
/// Not thread-safe: one instance per stream.
/// </summary>
public sealed class PageHinkley
{
    /// <summary>The default δ, the magnitude of change tolerated.</summary>
    public const double DefaultDelta = 0.005;

    /// <summary>The default λ, the detection threshold.</summary>
    public const double DefaultLambda = 50;

    /// <summary>The default forgetting factor α = 1 − 1e−4.</summary>
    public const double DefaultAlpha = 1 - 1e-4;

    /// <summary>The default number of values before drift can be signalled.</summary>
    public const int DefaultMinimumSamples = 30;

    private readonly double _sign;
    private bool _driftPending;

    /// <summary>A detector of increases of the mean.</summary>
    /// <param name="delta">δ ≥ 0, the change tolerated per value. <value>Default 0.005.</value></param>
    /// <param name="lambda">λ &gt; 0, the threshold S must exceed. <value>Default 50.</value></param>
    /// <param name="alpha">The forgetting factor, in (0, 1]. <value>Default 1 − 1e−4.</value></param>
    /// <param name="minimumSamples">Values since the last reset before drift can be signalled, ≥ 1. <value>Default 30.</value></param>
    public PageHinkley(double delta = DefaultDelta, double lambda = DefaultLambda, double alpha = DefaultAlpha, int minimumSamples = DefaultMinimumSamples)
        : this(delta, lambda, alpha, minimumSamples, detectDrops: false)
    {
    }

    private PageHinkley(double delta, double lambda, double alpha, int minimumSamples, bool detectDrops)
    {
        if (!(delta >= 0) || double.IsPositiveInfinity(delta))
        {
            throw new ArgumentOutOfRangeException(nameof(delta), delta, "must be a finite number ≥ 0");
        }
        if (!(lambda > 0) || double.IsPositiveInfinity(lambda))
        {
            throw new ArgumentOutOfRangeException(nameof(lambda), lambda, "must be a finite number > 0");
        }
        if (!(alpha > 0 && alpha <= 1))
        {
            throw new ArgumentOutOfRangeException(nameof(alpha), alpha, "must lie in (0, 1]");
        }
        ArgumentOutOfRangeException.ThrowIfNegativeOrZero(minimumSamples);
        Delta = delta;
        Lambda = lambda;
        Alpha = alpha;
        MinimumSamples = minimumSamples;
        DetectsDrops = detectDrops;
        _sign = detectDrops ? -1 : 1;
    }

    /// <summary>A detector of drops of the mean: it runs the test on −x, so δ and λ apply to the size of the drop.</summary>
    /// <param name="delta">δ ≥ 0, the change tolerated per value. <value>Default 0.005.</value></param>
    /// <param name="lambda">λ &gt; 0, the threshold S must exceed. <value>Default 50.</value></param>
    /// <param name="alpha">The forgetting factor, in (0, 1]. <value>Default 1 − 1e−4.</value></param>
    /// <param name="minimumSamples">Values since the last reset before drift can be signalled, ≥ 1. <value>Default 30.</value></param>
    public static PageHinkley ForDrops(double delta = DefaultDelta, double lambda = DefaultLambda, double alpha = DefaultAlpha, int minimumSamples = DefaultMinimumSamples)
        => new(delta, lambda, alpha, minimumSamples, detectDrops: true);

    /// <summary>δ, the magnitude of change tolerated.</summary>
    public double Delta { get; }

    /// <summary>λ, the detection threshold.</summary>
    public double Lambda { get; }

    /// <summary>α, the forgetting factor of S.</summary>
    public double Alpha { get; }

    /// <summary>Values since the last reset before drift can be signalled.</summary>
    public int MinimumSamples { get; }

    /// <summary>True for a detector made by <see cref="ForDrops"/>.</summary>
    public bool DetectsDrops { get; }

    /// <summary>t: values seen since the last reset.</summary>
    public long Count { get; private set; }

    /// <summary>x̄_t, the running mean of the values since the last reset (of −x for a drop detector).</summary>
    public double Mean { get; private set; }

    /// <summary>S_t, the cumulative deviation compared with λ.</summary>
    public double Sum { get; private set; }

    /// <summary>True when the last value added signalled drift.</summary>
    public bool DriftDetected => _driftPending;

    /// <summary>Drifts signalled since construction.</summary>
    public long Detections { get; private set; }

    /// <summary>
    /// Adds one value; returns true when drift is detected at this value. The detector then starts afresh at the next
    /// value.
    /// </summary>
    /// <exception cref="ArgumentOutOfRangeException"><paramref name="value"/> is not finite.</exception>
    public bool Add(double value)
    {
        if (!double.IsFinite(value))
        {
            throw new ArgumentOutOfRangeException(nameof(value), value, "must be a finite number");
        }
        if (_driftPending)
        {
            Reset();
        }
        var x = _sign * value;
        Count++;
        Mean += (x - Mean) / Count;
        Sum = Math.Max(0, Alpha * Sum + (x - Mean - Delta));
        if (Count >= MinimumSamples && Sum > Lambda)
        {
            _driftPending = true;
            Detections++;
        }
        return _driftPending;
    }

    /// <summary>Forgets every value seen: t = 0, x̄ = 0, S = 0 (the count of detections stays).</summary>
    public void Reset()
    {
        Count = 0;
        Mean = 0;
        Sum = 0;
        _driftPending = false;
    }
}
