using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Flywheel.Learning;

/// <summary>
/// A hashed linear regressor trained by squared-loss SGD with the adaptive, normalized and invariant update of
/// Vowpal Wabbit (ALGORITHMS §2), except that an importance weight above 1 enters the sums of squared gradients as 1.
/// Each slot has a weight, a sum of squared gradients and the largest |x| seen, kept in three arrays so that
/// predicting touches only the weights. Optionally (<see cref="PredictionClip"/>) an update measures its error from the
/// prediction clipped to the labels seen so far, so a prediction already beyond the label it is told is left alone.
/// Not thread-safe.
/// </summary>
public sealed class OnlineRegressor
{
    private const float MinSquare = 1.17549435e-38f; // FLT_MIN: |x| is floored at its square root.
    private readonly float[] _weights;
    private readonly float[] _gradients;
    private readonly float[] _norms;
    private readonly double _learningRate;
    private readonly double _powerT;
    private readonly float _decay;
    private readonly float _keep;
    private readonly PredictionClip _clip;
    private readonly float _negativePowerT;
    private readonly float _normExponent;
    private float[] _rates = new float[64];

    /// <summary>Creates a zero model with 2^<paramref name="bits"/> slots.</summary>
    /// <param name="bits">Table size exponent.</param>
    /// <param name="learningRate">The learning rate l.</param>
    /// <param name="powerT">The decay exponent of the adaptive rates.</param>
    /// <param name="l2">L2 regularisation: each update shrinks the weights it touches by the factor 1 − l·l2.</param>
    /// <param name="clip">Which side of the labels seen so far an update clips the prediction to before measuring its error.</param>
    /// <param name="forgetting">
    /// In [0, 1): each update shrinks the sums of squared gradients of the slots it touches by 1 − forgetting before adding
    /// the new gradient, so a slot's adaptive rate settles instead of vanishing and the model can follow a changing world.
    /// </param>
    public OnlineRegressor(int bits, double learningRate = 0.5, double powerT = 0.5, double l2 = 0, PredictionClip clip = PredictionClip.None, double forgetting = 0)
    {
        if (bits is < 1 or > 30)
        {
            throw new ArgumentOutOfRangeException(nameof(bits), bits, "must be from 1 to 30");
        }
        Bits = bits;
        _weights = new float[1 << bits];
        _gradients = new float[1 << bits];
        _norms = new float[1 << bits];
        _learningRate = learningRate;
        _powerT = powerT;
        _decay = (float)(1 - learningRate * l2);
        if (!(forgetting >= 0 && forgetting < 1))
        {
            throw new ArgumentOutOfRangeException(nameof(forgetting), forgetting, "must lie in [0, 1)");
        }
        Forgetting = forgetting;
        _keep = (float)(1 - forgetting);
        _clip = clip;
        _negativePowerT = (float)-powerT;
        _normExponent = (float)(2 * (powerT - 1));
    }

    /// <summary>Table size exponent.</summary>
    public int Bits { get; }

    /// <summary>Learning rate.</summary>
    public double LearningRate => _learningRate;

    /// <summary>Learning-rate decay exponent.</summary>
    public double PowerT => _powerT;

    /// <summary>The share of a slot's sum of squared gradients each update touching it forgets (0: none).</summary>
    public double Forgetting { get; }

    /// <summary>Sum over updates of importance × normalized squared norm (VW's S).</summary>
    public double NormalizedSum { get; internal set; }

    /// <summary>Sum of importance weights learned from (VW's T).</summary>
    public double TotalWeight { get; internal set; }

    /// <summary>How updates clip the prediction to [<see cref="MinLabel"/>, <see cref="MaxLabel"/>].</summary>
    public PredictionClip Clip => _clip;

    /// <summary>The smallest label learned from, or 0 (the range starts at [0, 0], as VW's does). Tracked when clipping.</summary>
    public float MinLabel { get; internal set; }

    /// <summary>The largest label learned from, or 0.</summary>
    public float MaxLabel { get; internal set; }

    /// <summary>The weights, for snapshots.</summary>
    internal Span<float> Weights => _weights;

    /// <summary>The sums of squared gradients, for snapshots.</summary>
    internal Span<float> Gradients => _gradients;

    /// <summary>The largest |x| seen per slot, for snapshots.</summary>
    internal Span<float> Norms => _norms;

    /// <summary>The prediction for a feature vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Predict(ReadOnlySpan<int> indices, ReadOnlySpan<float> values) => Dot(_weights, indices, values);

    /// <summary>Σ w[indices[i]]·values[i], in index order so every caller gets bit-identical sums.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static float Dot(float[] weights, ReadOnlySpan<int> indices, ReadOnlySpan<float> values)
    {
        ref var w = ref MemoryMarshal.GetArrayDataReference(weights);
        ref var i0 = ref MemoryMarshal.GetReference(indices);
        ref var v0 = ref MemoryMarshal.GetReference(values);
        var sum = 0f;
        for (var i = 0; i < indices.Length; i++)
        {
            sum += Unsafe.Add(ref w, Unsafe.Add(ref i0, i)) * Unsafe.Add(ref v0, i);
        }
        return sum;
    }

    /// <summary>One squared-loss update towards <paramref name="label"/> with importance <paramref name="importance"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Update(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, float label, float importance)
    {
        if (indices.Length != values.Length)
        {
            throw new ArgumentException("indices and values differ in length");
        }
        var mask = _weights.Length - 1;
        foreach (var index in indices)
        {
            if ((uint)index > (uint)mask)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), index, "index outside the weight table");
            }
        }
        var prediction = Predict(indices, values);
        if (_clip != PredictionClip.None)
        {
            MinLabel = MathF.Min(MinLabel, label);
            MaxLabel = MathF.Max(MaxLabel, label);
            prediction = _clip == PredictionClip.Range ? Math.Clamp(prediction, MinLabel, MaxLabel) : MathF.Max(prediction, MinLabel);
        }
        var error = label - prediction;
        if (error == 0 || importance <= 0)
        {
            return;
        }
        ref var w0 = ref MemoryMarshal.GetArrayDataReference(_weights);
        ref var g0 = ref MemoryMarshal.GetArrayDataReference(_gradients);
        ref var n0 = ref MemoryMarshal.GetArrayDataReference(_norms);
        // VW adds importance × g² to the adaptive sums. An importance above 1 counts once here: the invariant update
        // walks the error down along the importance path, so h repeats do not see h times the first gradient, and
        // counting them all would freeze the features of every rarely explored action that an mtr update touches.
        var gradSquared = MathF.Min(importance, 1f) * 4f * error * error;
        var sqrtRate = _powerT == 0.5;
        var forgets = _keep != 1f;
        if (!sqrtRate && _rates.Length < indices.Length)
        {
            _rates = new float[Math.Max(indices.Length, _rates.Length * 2)];
        }
        double normSum = 0, predPerUpdate = 0;
        for (var i = 0; i < indices.Length; i++)
        {
            var x = values[i];
            var x2 = x * x;
            if (x2 < MinSquare)
            {
                x = x > 0 ? 1.0842022e-19f : -1.0842022e-19f;
                x2 = MinSquare;
            }
            var slot = indices[i];
            ref var w = ref Unsafe.Add(ref w0, slot);
            ref var g = ref Unsafe.Add(ref g0, slot);
            ref var n = ref Unsafe.Add(ref n0, slot);
            // Forgetting: the old squared gradients fade, so the rate of a much-updated slot stays able to move it.
            g = forgets ? g * _keep + gradSquared * x2 : g + gradSquared * x2;
            var ax = MathF.Abs(x);
            if (ax > n)
            {
                if (n > 0)
                {
                    w *= n / ax;
                }
                n = ax;
            }
            float rate;
            if (sqrtRate)
            {
                rate = 1f / (MathF.Sqrt(g) * n);
            }
            else
            {
                // g^−p · n^(2p−2), kept for the second pass: powers are too dear to take twice per feature.
                rate = MathF.Exp(_negativePowerT * MathF.Log(g) + _normExponent * MathF.Log(n));
                _rates[i] = rate;
            }
            normSum += x2 / (n * n);
            predPerUpdate += x2 * rate;
        }
        NormalizedSum += importance * normSum;
        TotalWeight += importance;
        var multiplier = sqrtRate ? Math.Sqrt(TotalWeight / NormalizedSum) : Math.Pow(NormalizedSum / TotalWeight, _powerT - 1);
        predPerUpdate *= multiplier;
        var eta = _learningRate * importance;
        var etaPi = eta * predPerUpdate;
        var update = etaPi < 1e-6 ? 2 * error * eta : error * (1 - Math.Exp(-2 * etaPi)) / predPerUpdate;
        var step = (float)(multiplier * update);
        for (var i = 0; i < indices.Length; i++)
        {
            var x = values[i];
            if (x * x < MinSquare)
            {
                x = x > 0 ? 1.0842022e-19f : -1.0842022e-19f;
            }
            var slot = indices[i];
            ref var w = ref Unsafe.Add(ref w0, slot);
            var rate = sqrtRate ? 1f / (MathF.Sqrt(Unsafe.Add(ref g0, slot)) * Unsafe.Add(ref n0, slot)) : _rates[i];
            w = w * _decay + step * rate * x;
        }
    }

    /// <summary>
    /// Forgets the sums of squared gradients and the normalisation sums; keeps the largest |x| per slot, and the weights
    /// when <paramref name="keepWeights"/> is true.
    /// </summary>
    public void Refresh(bool keepWeights = true)
    {
        if (!keepWeights)
        {
            Array.Clear(_weights);
        }
        Array.Clear(_gradients);
        NormalizedSum = 0;
        TotalWeight = 0;
    }

    /// <summary>Copies the weights (not the update state) for serving.</summary>
    public float[] CopyWeights() => (float[])_weights.Clone();
}

/// <summary>How an <see cref="OnlineRegressor"/> update clips its prediction to the labels seen before measuring its error.</summary>
public enum PredictionClip
{
    /// <summary>No clipping: plain squared loss.</summary>
    None,

    /// <summary>
    /// Raise the prediction to the smallest label seen: a cost predicted below every cost seen, told the smallest, is left
    /// alone, since the lowest cost is what a decision picks; above it the fit stays plain squared loss.
    /// </summary>
    Floor,

    /// <summary>Clamp the prediction to [smallest, largest] label seen, as VW's squared loss does.</summary>
    Range,
}
