using System.Numerics;
using System.Runtime.CompilerServices;
using System.Runtime.InteropServices;

namespace Flywheel.Learning;

/// <summary>
/// A hashed linear regressor trained by squared-loss SGD with the adaptive, normalized and invariant update of
/// Vowpal Wabbit (docs/loop-config.md), except that an importance weight above 1 enters the sums of squared gradients as 1.
/// Each slot has a weight, a sum of squared gradients and the largest |x| seen, kept in three arrays so that
/// predicting touches only the weights. Optionally (<see cref="PredictionClip"/>) an update measures its error from the
/// prediction clipped to the labels seen so far, so a prediction already beyond the label it is told is left alone.
/// Not thread-safe.
/// </summary>
/// <remarks>
/// A new regressor is <em>sparse</em>: it keeps only the slots an update has touched, in an open-addressing table, so
/// a loop that has learned little costs kilobytes rather than 12 bytes for each of its 2^bits slots. Once the table
/// would grow past <see cref="MaxSparseCapacity"/> (a sixth of the dense arrays' size) the regressor turns dense for
/// good. Both forms do the same float operations in the same order, so predictions, updates and snapshots are
/// bit-for-bit the same whichever form a regressor is in.
/// </remarks>
public sealed class OnlineRegressor
{
    private const float MinSquare = 1.17549435e-38f; // FLT_MIN: |x| is floored at its square root.

    /// <summary>The capacity a sparse table starts with.</summary>
    internal const int SparseStartCapacity = 16;

    // Dense: indexed by slot. Sparse: indexed by position in the table of _keys (slot + 1 per position, 0 = empty),
    // half full at most, so a probe finds its slot or an empty position in a step or two.
    private float[] _weights;
    private float[] _gradients;
    private float[] _norms;
    private int[]? _keys;
    private int _shift;
    private int _used;
    private readonly int _slots;
    private readonly double _learningRate;
    private readonly double _powerT;
    private readonly float _decay;
    private readonly float _keep;
    private readonly PredictionClip _clip;
    private readonly float _negativePowerT;
    private readonly float _normExponent;
    private float[]? _rates;

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
        _slots = 1 << bits;
        if (MaxSparseCapacity >= SparseStartCapacity)
        {
            _keys = new int[SparseStartCapacity];
            _shift = 32 - BitOperations.Log2(SparseStartCapacity);
            _weights = new float[SparseStartCapacity];
            _gradients = new float[SparseStartCapacity];
            _norms = new float[SparseStartCapacity];
        }
        else
        {
            _weights = new float[_slots];
            _gradients = new float[_slots];
            _norms = new float[_slots];
        }
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

    /// <summary>
    /// True once the regressor keeps every slot in dense arrays; false while it keeps only the slots it has touched
    /// (see the remarks on the class). Either way it predicts, learns and saves the same.
    /// </summary>
    public bool IsDense => _keys is null;

    /// <summary>The largest table a sparse regressor keeps: 2^(bits−3) positions of 16 bytes, a sixth of the dense arrays.</summary>
    internal int MaxSparseCapacity => _slots >> 3;

    /// <summary>Slots a sparse regressor holds (0 when dense).</summary>
    internal int SparseCount => _keys is null ? 0 : _used;

    /// <summary>The weights by slot, for tests; turns a sparse regressor dense.</summary>
    internal Span<float> Weights
    {
        get
        {
            Densify();
            return _weights;
        }
    }

    /// <summary>The sums of squared gradients by slot, for tests; turns a sparse regressor dense.</summary>
    internal Span<float> Gradients
    {
        get
        {
            Densify();
            return _gradients;
        }
    }

    /// <summary>The largest |x| seen per slot, for tests; turns a sparse regressor dense.</summary>
    internal Span<float> Norms
    {
        get
        {
            Densify();
            return _norms;
        }
    }

    /// <summary>The prediction for a feature vector.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Predict(ReadOnlySpan<int> indices, ReadOnlySpan<float> values)
        => _keys is null ? Dot(_weights, indices, values) : SparseDot(_keys, _shift, _weights, indices, values);

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

    /// <summary>
    /// <see cref="Dot"/> over a sparse table: the same products added in the same order, an absent slot counting as a
    /// zero weight (0·x, which may be −0, exactly as the dense table adds it).
    /// </summary>
    [MethodImpl(MethodImplOptions.NoInlining)]
    internal static float SparseDot(int[] keys, int shift, float[] weights, ReadOnlySpan<int> indices, ReadOnlySpan<float> values)
    {
        var sum = 0f;
        for (var i = 0; i < indices.Length; i++)
        {
            var p = Find(keys, shift, indices[i]);
            sum += (p < 0 ? 0f : weights[p]) * values[i];
        }
        return sum;
    }

    /// <summary>The position of <paramref name="slot"/> in a sparse table, or −1 when it is absent.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    internal static int Find(int[] keys, int shift, int slot)
    {
        var mask = keys.Length - 1;
        var p = Home(slot, shift);
        while (true)
        {
            var key = keys[p];
            if (key == slot + 1)
            {
                return p;
            }
            if (key == 0)
            {
                return -1;
            }
            p = (p + 1) & mask;
        }
    }

    // Fibonacci hashing: the top bits of slot × 2^32/φ, so neighbouring slots land apart.
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    private static int Home(int slot, int shift) => (int)(((uint)slot * 0x9E3779B9u) >> shift);

    /// <summary>One squared-loss update towards <paramref name="label"/> with importance <paramref name="importance"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    public void Update(ReadOnlySpan<int> indices, ReadOnlySpan<float> values, float label, float importance)
    {
        if (indices.Length != values.Length)
        {
            throw new ArgumentException("indices and values differ in length");
        }
        var mask = _slots - 1;
        foreach (var index in indices)
        {
            if ((uint)index > (uint)mask)
            {
                throw new ArgumentOutOfRangeException(nameof(indices), index, "index outside the weight table");
            }
        }
        if (_keys is not null)
        {
            // Room for every slot the update may add, so no position moves while the update holds it; past the
            // sparse limit this turns the regressor dense.
            Reserve(indices.Length);
        }
        if (_keys is null)
        {
            Update(default(DenseSlots), indices, values, label, importance);
        }
        else
        {
            Update(new SparseSlots(this), indices, values, label, importance);
        }
    }

    // One body for both forms, so they do the same float operations in the same order: DenseSlots compiles to the
    // plain array indexing it always was.
    [MethodImpl(MethodImplOptions.AggressiveOptimization)]
    private void Update<TSlots>(TSlots slots, ReadOnlySpan<int> indices, ReadOnlySpan<float> values, float label, float importance)
        where TSlots : struct, ISlots
    {
        var prediction = slots.Dot(this, indices, values);
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
        var rates = _rates;
        if (!sqrtRate && (rates is null || rates.Length < indices.Length))
        {
            rates = _rates = new float[Math.Max(indices.Length, rates is null ? 64 : rates.Length * 2)];
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
            var slot = slots.Add(indices[i]);
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
                rates![i] = rate;
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
            var slot = slots.Find(indices[i]);
            ref var w = ref Unsafe.Add(ref w0, slot);
            var rate = sqrtRate ? 1f / (MathF.Sqrt(Unsafe.Add(ref g0, slot)) * Unsafe.Add(ref n0, slot)) : rates![i];
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

    /// <summary>Copies the weights (not the update state) as a dense table of 2^bits slots.</summary>
    public float[] CopyWeights()
    {
        if (_keys is null)
        {
            return (float[])_weights.Clone();
        }
        var copy = new float[_slots];
        for (var p = 0; p < _keys.Length; p++)
        {
            if (_keys[p] != 0)
            {
                copy[_keys[p] - 1] = _weights[p];
            }
        }
        return copy;
    }

    /// <summary>An immutable copy of the weights for serving, in the regressor's own form.</summary>
    internal ServedWeights Serve()
        => _keys is null ? new ServedWeights(_slots, (float[])_weights.Clone()) : new ServedWeights(_slots, (float[])_weights.Clone(), (int[])_keys.Clone(), _shift);

    /// <summary>Turns a sparse regressor dense (nothing else changes); the benchmarks and tests use it to compare the forms.</summary>
    internal void Densify()
    {
        if (_keys is not { } keys)
        {
            return;
        }
        var weights = new float[_slots];
        var gradients = new float[_slots];
        var norms = new float[_slots];
        for (var p = 0; p < keys.Length; p++)
        {
            if (keys[p] != 0)
            {
                var slot = keys[p] - 1;
                weights[slot] = _weights[p];
                gradients[slot] = _gradients[p];
                norms[slot] = _norms[p];
            }
        }
        _weights = weights;
        _gradients = gradients;
        _norms = norms;
        _keys = null;
        _used = 0;
    }

    /// <summary>
    /// Visits every slot with state in slot order as (slot, weight, gradient sum, norm): every slot of a dense regressor,
    /// the stored ones of a sparse one. Snapshots write what it gives, so both forms save the same bytes.
    /// </summary>
    internal void ForEachSlot<TVisitor>(ref TVisitor visitor)
        where TVisitor : struct, ISlotVisitor
    {
        if (_keys is not { } keys)
        {
            for (var i = 0; i < _slots; i++)
            {
                visitor.Visit(i, _weights[i], _gradients[i], _norms[i]);
            }
            return;
        }
        var positions = new int[_used];
        var order = new int[_used];
        var k = 0;
        for (var p = 0; p < keys.Length; p++)
        {
            if (keys[p] != 0)
            {
                positions[k] = p;
                order[k] = keys[p] - 1;
                k++;
            }
        }
        Array.Sort(order, positions);
        for (var j = 0; j < k; j++)
        {
            var p = positions[j];
            visitor.Visit(order[j], _weights[p], _gradients[p], _norms[p]);
        }
    }

    /// <summary>Makes room for <paramref name="count"/> more slots (a snapshot being loaded); a table too large for sparse turns dense.</summary>
    internal void ReserveSlots(int count)
    {
        if (_keys is not null)
        {
            Reserve(count);
        }
    }

    /// <summary>Sets one slot's state (a snapshot being loaded).</summary>
    internal void SetSlot(int slot, float weight, float gradient, float norm)
    {
        if (_keys is not null)
        {
            Reserve(1);
        }
        var p = _keys is null ? slot : Add(slot);
        _weights[p] = weight;
        _gradients[p] = gradient;
        _norms[p] = norm;
    }

    // The position of a slot in the sparse table, adding it when absent; the caller has reserved room.
    private int Add(int slot)
    {
        var keys = _keys!;
        var mask = keys.Length - 1;
        var p = Home(slot, _shift);
        while (true)
        {
            var key = keys[p];
            if (key == slot + 1)
            {
                return p;
            }
            if (key == 0)
            {
                keys[p] = slot + 1;
                _used++;
                return p;
            }
            p = (p + 1) & mask;
        }
    }

    // Keeps the sparse table at most half full after `extra` more slots, growing it, or turning dense past the limit.
    private void Reserve(int extra)
    {
        var needed = 2 * ((long)_used + extra);
        long capacity = _keys!.Length;
        if (needed <= capacity)
        {
            return;
        }
        while (capacity < needed)
        {
            capacity *= 2;
        }
        if (capacity > MaxSparseCapacity)
        {
            Densify();
            return;
        }
        var keys = _keys;
        var weights = _weights;
        var gradients = _gradients;
        var norms = _norms;
        _keys = new int[capacity];
        _weights = new float[capacity];
        _gradients = new float[capacity];
        _norms = new float[capacity];
        _shift = 32 - BitOperations.Log2((uint)capacity);
        _used = 0;
        for (var p = 0; p < keys.Length; p++)
        {
            if (keys[p] != 0)
            {
                var q = Add(keys[p] - 1);
                _weights[q] = weights[p];
                _gradients[q] = gradients[p];
                _norms[q] = norms[p];
            }
        }
    }

    /// <summary>Where an update finds a slot's state: in the dense arrays or in the sparse table.</summary>
    private interface ISlots
    {
        float Dot(OnlineRegressor regressor, ReadOnlySpan<int> indices, ReadOnlySpan<float> values);

        /// <summary>The position of a slot, added when absent.</summary>
        int Add(int slot);

        /// <summary>The position of a slot known to be present.</summary>
        int Find(int slot);
    }

    private readonly struct DenseSlots : ISlots
    {
        public float Dot(OnlineRegressor regressor, ReadOnlySpan<int> indices, ReadOnlySpan<float> values) => OnlineRegressor.Dot(regressor._weights, indices, values);

        public int Add(int slot) => slot;

        public int Find(int slot) => slot;
    }

    private readonly struct SparseSlots(OnlineRegressor regressor) : ISlots
    {
        public float Dot(OnlineRegressor r, ReadOnlySpan<int> indices, ReadOnlySpan<float> values) => SparseDot(r._keys!, r._shift, r._weights, indices, values);

        public int Add(int slot) => regressor.Add(slot);

        public int Find(int slot) => OnlineRegressor.Find(regressor._keys!, regressor._shift, slot);
    }
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

/// <summary>Receives a regressor's slots in slot order (<see cref="OnlineRegressor.ForEachSlot"/>).</summary>
internal interface ISlotVisitor
{
    void Visit(int slot, float weight, float gradient, float norm);
}

/// <summary>
/// One regressor's weights frozen for serving, in the form the regressor had: a dense table of every slot, or the
/// sparse table of the slots it had touched. Immutable and thread-safe.
/// </summary>
internal sealed class ServedWeights
{
    private readonly float[] _weights;
    private readonly int[]? _keys;
    private readonly int _shift;

    public ServedWeights(int slots, float[] weights, int[]? keys = null, int shift = 0)
    {
        Slots = slots;
        _weights = weights;
        _keys = keys;
        _shift = shift;
    }

    /// <summary>An untrained table of <paramref name="slots"/> slots (sparse: it holds nothing).</summary>
    public static ServedWeights Empty(int slots)
        => slots >> 3 >= OnlineRegressor.SparseStartCapacity
            ? new ServedWeights(slots, new float[OnlineRegressor.SparseStartCapacity], new int[OnlineRegressor.SparseStartCapacity], 32 - BitOperations.Log2(OnlineRegressor.SparseStartCapacity))
            : new ServedWeights(slots, new float[slots]);

    /// <summary>Slots of the table the weights index (2^bits).</summary>
    public int Slots { get; }

    /// <summary>True when the weights are a dense table.</summary>
    public bool IsDense => _keys is null;

    /// <summary>The prediction for indices already checked against <see cref="Slots"/>.</summary>
    [MethodImpl(MethodImplOptions.AggressiveInlining)]
    public float Predict(ReadOnlySpan<int> indices, ReadOnlySpan<float> values)
        => _keys is null ? OnlineRegressor.Dot(_weights, indices, values) : OnlineRegressor.SparseDot(_keys, _shift, _weights, indices, values);
}
