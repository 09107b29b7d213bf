namespace Flywheel.Evaluation.Answers;

/// <summary>How <see cref="RaschFit"/> fits (docs/ability-data.md).</summary>
public sealed record RaschFitOptions
{
    /// <summary>Gauss–Hermite quadrature points over the ability distribution, 5–201. <value>Default 41.</value></summary>
    public int QuadraturePoints { get; init; } = 41;

    /// <summary>
    /// The fit stops when no difficulty and not the ability spread moves by more than this in one EM iteration.
    /// <value>Default 1e-7 logits.</value>
    /// </summary>
    public double Tolerance { get; init; } = 1e-7;

    /// <summary>The most EM iterations; a fit that reaches it reports <see cref="RaschFit.Converged"/> false. <value>Default 5,000.</value></summary>
    public int MaxIterations { get; init; } = 5000;

    /// <summary>
    /// The standard deviation of the learners' abilities, held fixed; null estimates it (the default). 0 gives every learner
    /// the same ability, so each difficulty is the log odds of a wrong answer to its item.
    /// </summary>
    public double? AbilitySpread { get; init; }

    /// <summary>
    /// The standard deviation of a normal prior on each difficulty, centred at 0, which keeps an item that everyone got
    /// right (or wrong) at a finite difficulty; <see cref="double.PositiveInfinity"/> for none (pure maximum likelihood).
    /// At the default it carries the information of a quarter of an answer, so it pulls a difficulty b with n answers
    /// towards 0 by about b/(4n) logits. <value>Default 4 logits.</value>
    /// </summary>
    public double DifficultyPrior { get; init; } = 4;
}

/// <summary>One item of a <see cref="RaschFit"/>.</summary>
/// <param name="ItemId">The item.</param>
/// <param name="Difficulty">Its difficulty, in logits, on the scale where the learners' mean ability is 0.</param>
/// <param name="StandardError">
/// Its standard error, from the diagonal of the observed information of the marginal likelihood (the other parameters
/// held at their estimates, so slightly small).
/// </param>
/// <param name="Answers">Responses used (each learner's first answer to the item).</param>
/// <param name="Correct">Of which right.</param>
public sealed record RaschItem(string ItemId, double Difficulty, double StandardError, long Answers, long Correct);

/// <summary>
/// A batch fit of the Rasch model, P(learner p answers item j right) = σ(θ_p − b_j), by marginal maximum likelihood: the
/// abilities θ are not parameters but drawn from N(0, s²), with the spread s estimated (or held fixed, see
/// <see cref="RaschFitOptions.AbilitySpread"/>), so the item difficulties b are consistent however few answers each learner
/// gives, and the ability mean of 0 fixes the scale's origin. The likelihood of a learner's answers is integrated over
/// θ by Gauss–Hermite quadrature (41 points by default) and maximised by EM: the E-step weighs each learner's quadrature
/// points by the posterior of θ given their answers; the M-step solves each difficulty by Newton's method from the
/// expected counts of answers and right answers at each point, and sets s² to the mean posterior θ². A weak normal prior
/// on each difficulty (<see cref="RaschFitOptions.DifficultyPrior"/>) keeps items nobody got wrong finite. Only each
/// learner's first answer to an item counts: the model assumes one response per learner and item.
/// </summary>
/// <remarks>
/// Deterministic: the same answers in the same order give the same numbers. Each iteration costs one pass over the
/// responses plus a table of items × points. Abilities are reported as posterior means (EAP) with posterior standard
/// deviations.
/// </remarks>
public sealed class RaschFit
{
    // Sums of posteriors below this are treated as no evidence; keeps Newton away from a zero information.
    private const double Tiny = 1e-300;

    private readonly Dictionary<string, int> _itemIndex;
    private readonly Dictionary<string, int> _personIndex;
    private readonly double[] _abilities;
    private readonly double[] _abilitySds;

    private RaschFit(
        IReadOnlyList<RaschItem> items, Dictionary<string, int> itemIndex, Dictionary<string, int> personIndex,
        double[] abilities, double[] abilitySds, double spread, int iterations, bool converged, double logLikelihood, long responses)
    {
        Items = items;
        _itemIndex = itemIndex;
        _personIndex = personIndex;
        _abilities = abilities;
        _abilitySds = abilitySds;
        AbilitySpread = spread;
        Iterations = iterations;
        Converged = converged;
        LogLikelihood = logLikelihood;
        Responses = responses;
    }

    /// <summary>The items, in the order of their first answer.</summary>
    public IReadOnlyList<RaschItem> Items { get; }

    /// <summary>The standard deviation of the learners' abilities (estimated, or the one held fixed).</summary>
    public double AbilitySpread { get; }

    /// <summary>EM iterations run.</summary>
    public int Iterations { get; }

    /// <summary>True when the fit met <see cref="RaschFitOptions.Tolerance"/> within <see cref="RaschFitOptions.MaxIterations"/>.</summary>
    public bool Converged { get; }

    /// <summary>The marginal log-likelihood of the responses at the estimates (the difficulty prior not included).</summary>
    public double LogLikelihood { get; }

    /// <summary>Responses fitted (each learner's first answer to each item).</summary>
    public long Responses { get; }

    /// <summary>Learners fitted.</summary>
    public int Persons => _abilities.Length;

    /// <summary>The item's difficulty; NaN for an item with no answers.</summary>
    public double Difficulty(string itemId) => _itemIndex.TryGetValue(itemId, out var j) ? Items[j].Difficulty : double.NaN;

    /// <summary>The learner's ability, the posterior mean given their answers; 0 (the population's mean) for a learner with none.</summary>
    public double Ability(string userId) => _personIndex.TryGetValue(userId, out var p) ? _abilities[p] : 0;

    /// <summary>
    /// The probability that the learner answers the item right, averaging σ(θ − b) over the learner's posterior ability
    /// (by the probit approximation σ(μ/√(1 + πv/8))). A learner with no answers is drawn from the population; an unknown
    /// item has difficulty 0.
    /// </summary>
    public double Predict(string userId, string itemId)
    {
        var (mean, sd) = _personIndex.TryGetValue(userId, out var p) ? (_abilities[p], _abilitySds[p]) : (0.0, AbilitySpread);
        var b = _itemIndex.TryGetValue(itemId, out var j) ? Items[j].Difficulty : 0;
        return Sigmoid((mean - b) / Math.Sqrt(1 + Math.PI * sd * sd / 8));
    }

    /// <summary>Fits the answers (each learner's first answer to each item, in the order given).</summary>
    /// <exception cref="ArgumentException">No answers, or options out of range.</exception>
    public static RaschFit Fit(IEnumerable<Answer> answers, RaschFitOptions? options = null, CancellationToken cancellationToken = default)
    {
        ArgumentNullException.ThrowIfNull(answers);
        options ??= new RaschFitOptions();
        Validate(options);

        // Index learners and items; keep each learner's first answer to each item, grouped by learner.
        var itemIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var itemIds = new List<string>();
        var personIndex = new Dictionary<string, int>(StringComparer.Ordinal);
        var byPerson = new List<List<(int Item, bool Correct)>>();
        var seen = new HashSet<(int, int)>();
        foreach (var a in answers)
        {
            if (!personIndex.TryGetValue(a.UserId, out var p))
            {
                p = personIndex[a.UserId] = byPerson.Count;
                byPerson.Add([]);
            }
            if (!itemIndex.TryGetValue(a.ItemId, out var j))
            {
                j = itemIndex[a.ItemId] = itemIds.Count;
                itemIds.Add(a.ItemId);
            }
            if (seen.Add((p, j)))
            {
                byPerson[p].Add((j, a.Correct));
            }
        }
        if (seen.Count == 0)
        {
            throw new ArgumentException("there are no answers to fit", nameof(answers));
        }
        seen.Clear();

        var persons = byPerson.Count;
        var items = itemIds.Count;
        var offsets = new int[persons + 1];
        for (var p = 0; p < persons; p++)
        {
            offsets[p + 1] = offsets[p] + byPerson[p].Count;
        }
        var responseItem = new int[offsets[persons]];
        var responseCorrect = new bool[offsets[persons]];
        var answered = new long[items];
        var right = new long[items];
        for (var p = 0; p < persons; p++)
        {
            var k = offsets[p];
            foreach (var (j, c) in byPerson[p])
            {
                responseItem[k] = j;
                responseCorrect[k++] = c;
                answered[j]++;
                right[j] += c ? 1 : 0;
            }
        }
        byPerson.Clear();

        var state = new EmState(options, offsets, responseItem, responseCorrect, items);
        // Start each difficulty at the log odds of a wrong answer (smoothed), the spread at 1.
        for (var j = 0; j < items; j++)
        {
            state.Difficulties[j] = Math.Log((answered[j] - right[j] + 0.5) / (right[j] + 0.5));
        }
        state.Spread = options.AbilitySpread ?? 1;

        var iterations = 0;
        var converged = false;
        while (iterations < options.MaxIterations)
        {
            cancellationToken.ThrowIfCancellationRequested();
            iterations++;
            state.EStep(final: false);
            var moved = state.MStep();
            if (moved <= options.Tolerance)
            {
                converged = true;
                break;
            }
        }

        var logLikelihood = state.EStep(final: true);
        var fitted = new RaschItem[items];
        for (var j = 0; j < items; j++)
        {
            var information = state.Information[j] + state.PriorPrecision;
            fitted[j] = new RaschItem(itemIds[j], state.Difficulties[j], information > 0 ? 1 / Math.Sqrt(information) : double.PositiveInfinity, answered[j], right[j]);
        }
        return new RaschFit(fitted, itemIndex, personIndex, state.Abilities, state.AbilitySds, state.Spread, iterations, converged, logLikelihood, responseItem.Length);
    }

    /// <summary>
    /// The nodes and weights of Gauss–Hermite quadrature for the standard normal density: Σ w_k f(x_k) ≈ E f(X), X ~ N(0, 1),
    /// exact for polynomials of degree below 2n. The nodes are the roots of the degree-n Hermite polynomial (found by
    /// bracketing and bisection on the orthonormal recurrence), each weight the inverse of Σ_{i&lt;n} q_i(x_k)².
    /// </summary>
    public static (double[] Nodes, double[] Weights) GaussHermite(int n)
    {
        ArgumentOutOfRangeException.ThrowIfLessThan(n, 1);
        ArgumentOutOfRangeException.ThrowIfGreaterThan(n, 400);
        var nodes = new double[n];
        var weights = new double[n];
        // Every root lies inside ±√(4n + 2); neighbouring roots are at least ~2/√n apart, well above the scan step.
        var limit = Math.Sqrt(4.0 * n + 2) + 1;
        var step = Math.Min(0.01, 0.1 / Math.Sqrt(n));
        var found = 0;
        var x0 = -limit;
        var f0 = Orthonormal(n, x0).Value;
        for (var x1 = x0 + step; x1 <= limit + step && found < n; x1 += step)
        {
            var f1 = Orthonormal(n, x1).Value;
            if (f1 == 0)
            {
                nodes[found++] = x1;
                x0 = x1 + step / 2;
                f0 = Orthonormal(n, x0).Value;
                x1 = x0;
                continue;
            }
            if (Math.Sign(f0) != Math.Sign(f1))
            {
                double lo = x0, hi = x1, flo = f0;
                for (var i = 0; i < 200 && hi - lo > 1e-15 * Math.Max(1, Math.Abs(lo)); i++)
                {
                    var mid = (lo + hi) / 2;
                    var fm = Orthonormal(n, mid).Value;
                    if (Math.Sign(fm) == Math.Sign(flo))
                    {
                        lo = mid;
                        flo = fm;
                    }
                    else
                    {
                        hi = mid;
                    }
                }
                nodes[found++] = (lo + hi) / 2;
            }
            x0 = x1;
            f0 = f1;
        }
        if (found != n)
        {
            throw new InvalidOperationException($"found {found} of the {n} Gauss–Hermite nodes");
        }
        // Symmetric by construction; make it exact so that an odd n has its middle node at 0.
        for (var k = 0; k < n / 2; k++)
        {
            var half = (nodes[n - 1 - k] - nodes[k]) / 2;
            nodes[k] = -half;
            nodes[n - 1 - k] = half;
        }
        if (n % 2 == 1)
        {
            nodes[n / 2] = 0;
        }
        var total = 0.0;
        for (var k = 0; k < n; k++)
        {
            weights[k] = 1 / Orthonormal(n, nodes[k]).SumOfSquares;
            total += weights[k];
        }
        // Σ w = 1 holds in exact arithmetic; renormalise away the rounding.
        for (var k = 0; k < n; k++)
        {
            weights[k] /= total;
        }
        return (nodes, weights);
    }

    /// <summary>q_n(x) of the polynomials orthonormal under N(0, 1), and Σ_{i&lt;n} q_i(x)².</summary>
    private static (double Value, double SumOfSquares) Orthonormal(int n, double x)
    {
        double previous = 0, current = 1, sum = 0;
        for (var i = 0; i < n; i++)
        {
            sum += current * current;
            var next = (x * current - Math.Sqrt(i) * previous) / Math.Sqrt(i + 1);
            previous = current;
            current = next;
        }
        return (current, sum);
    }

    private static void Validate(RaschFitOptions o)
    {
        if (o.QuadraturePoints is < 5 or > 201)
        {
            throw new ArgumentException($"QuadraturePoints must be from 5 to 201; got {o.QuadraturePoints}", nameof(o));
        }
        if (!(o.Tolerance > 0) || !double.IsFinite(o.Tolerance))
        {
            throw new ArgumentException($"Tolerance must be a finite number above 0; got {o.Tolerance}", nameof(o));
        }
        if (o.MaxIterations < 1)
        {
            throw new ArgumentException($"MaxIterations must be at least 1; got {o.MaxIterations}", nameof(o));
        }
        if (o.AbilitySpread is { } s && !(s >= 0 && s <= 20))
        {
            throw new ArgumentException($"AbilitySpread must lie in [0, 20]; got {s}", nameof(o));
        }
        if (!(o.DifficultyPrior > 0))
        {
            throw new ArgumentException($"DifficultyPrior must be above 0 (infinity for none); got {o.DifficultyPrior}", nameof(o));
        }
    }

    private static double Sigmoid(double z) => z >= 0 ? 1 / (1 + Math.Exp(-z)) : Math.Exp(z) / (1 + Math.Exp(z));

    /// <summary>log σ(z), without overflow or log(0) at either end.</summary>
    private static double LogSigmoid(double z) => z >= 0 ? -Math.Log(1 + Math.Exp(-z)) : z - Math.Log(1 + Math.Exp(z));

    /// <summary>The working arrays of EM: one learner's posterior at a time, expected counts per item and point.</summary>
    private sealed class EmState
    {
        private readonly RaschFitOptions _options;
        private readonly int[] _offsets;
        private readonly int[] _items;
        private readonly bool[] _correct;
        private readonly double[] _unitNodes;
        private readonly double[] _logWeights;
        private readonly int _q;
        private readonly double[] _nodes;
        private readonly double[] _logRight;   // [item × point]
        private readonly double[] _logWrong;
        private readonly double[] _expected;   // expected answers at each point, per item
        private readonly double[] _expectedRight;
        private readonly double[] _posterior;
        private double _secondMoment;

        public EmState(RaschFitOptions options, int[] offsets, int[] items, bool[] correct, int itemCount)
        {
            _options = options;
            _offsets = offsets;
            _items = items;
            _correct = correct;
            (_unitNodes, var weights) = GaussHermite(options.QuadraturePoints);
            _q = _unitNodes.Length;
            _logWeights = [.. weights.Select(w => Math.Log(w))];
            _nodes = new double[_q];
            _logRight = new double[itemCount * _q];
            _logWrong = new double[itemCount * _q];
            _expected = new double[itemCount * _q];
            _expectedRight = new double[itemCount * _q];
            _posterior = new double[_q];
            Difficulties = new double[itemCount];
            Information = new double[itemCount];
            var persons = offsets.Length - 1;
            Abilities = new double[persons];
            AbilitySds = new double[persons];
            PriorPrecision = double.IsPositiveInfinity(options.DifficultyPrior) ? 0 : 1 / (options.DifficultyPrior * options.DifficultyPrior);
        }

        public double[] Difficulties { get; }

        public double Spread { get; set; }

        public double PriorPrecision { get; }

        /// <summary>After the final E-step: each difficulty's observed information.</summary>
        public double[] Information { get; }

        public double[] Abilities { get; }

        public double[] AbilitySds { get; }

        /// <summary>Posterior weights of every learner's points, accumulated into expected counts; returns the marginal log-likelihood.</summary>
        public double EStep(bool final)
        {
            var items = Difficulties.Length;
            for (var k = 0; k < _q; k++)
            {
                _nodes[k] = Spread * _unitNodes[k];
            }
            for (var j = 0; j < items; j++)
            {
                for (var k = 0; k < _q; k++)
                {
                    var z = _nodes[k] - Difficulties[j];
                    _logRight[j * _q + k] = LogSigmoid(z);
                    _logWrong[j * _q + k] = LogSigmoid(-z);
                }
            }
            Array.Clear(_expected);
            Array.Clear(_expectedRight);
            if (final)
            {
                Array.Clear(Information);
            }
            _secondMoment = 0;
            var logLikelihood = 0.0;
            var persons = _offsets.Length - 1;
            for (var p = 0; p < persons; p++)
            {
                // Log prior plus the log-likelihood of each answer, a row of the table at a time.
                var log = _posterior.AsSpan();
                _logWeights.CopyTo(log);
                for (var r = _offsets[p]; r < _offsets[p + 1]; r++)
                {
                    var row = (_correct[r] ? _logRight : _logWrong).AsSpan(_items[r] * _q, _q);
                    for (var k = 0; k < _q; k++)
                    {
                        log[k] += row[k];
                    }
                }
                var max = double.NegativeInfinity;
                for (var k = 0; k < _q; k++)
                {
                    max = Math.Max(max, log[k]);
                }
                var sum = 0.0;
                for (var k = 0; k < _q; k++)
                {
                    _posterior[k] = Math.Exp(_posterior[k] - max);
                    sum += _posterior[k];
                }
                logLikelihood += max + Math.Log(sum);
                double mean = 0, square = 0;
                for (var k = 0; k < _q; k++)
                {
                    _posterior[k] /= sum;
                    mean += _posterior[k] * _nodes[k];
                    square += _posterior[k] * _nodes[k] * _nodes[k];
                }
                _secondMoment += square;
                for (var r = _offsets[p]; r < _offsets[p + 1]; r++)
                {
                    var posterior = _posterior.AsSpan();
                    var expected = _expected.AsSpan(_items[r] * _q, _q);
                    for (var k = 0; k < _q; k++)
                    {
                        expected[k] += posterior[k];
                    }
                    if (_correct[r])
                    {
                        var expectedRight = _expectedRight.AsSpan(_items[r] * _q, _q);
                        for (var k = 0; k < _q; k++)
                        {
                            expectedRight[k] += posterior[k];
                        }
                    }
                }
                if (final)
                {
                    Abilities[p] = mean;
                    AbilitySds[p] = Math.Sqrt(Math.Max(0, square - mean * mean));
                    // −∂²ℓ_p/∂b_j² = E[P(1 − P)] − Var[P] under the learner's posterior.
                    for (var r = _offsets[p]; r < _offsets[p + 1]; r++)
                    {
                        var row = _items[r] * _q;
                        double eP = 0, eP2 = 0, eSlope = 0;
                        for (var k = 0; k < _q; k++)
                        {
                            var prob = Math.Exp(_logRight[row + k]);
                            eP += _posterior[k] * prob;
                            eP2 += _posterior[k] * prob * prob;
                            eSlope += _posterior[k] * prob * (1 - prob);
                        }
                        Information[_items[r]] += eSlope - (eP2 - eP * eP);
                    }
                }
            }
            return logLikelihood;
        }

        /// <summary>New difficulties and spread from the expected counts; returns the largest change.</summary>
        public double MStep()
        {
            var moved = 0.0;
            for (var j = 0; j < Difficulties.Length; j++)
            {
                var b = Difficulties[j];
                for (var i = 0; i < 100; i++)
                {
                    // Score and information of b under the expected counts (and the prior).
                    double score = -PriorPrecision * b, information = PriorPrecision;
                    for (var k = 0; k < _q; k++)
                    {
                        var n = _expected[j * _q + k];
                        if (n < Tiny)
                        {
                            continue;
                        }
                        var prob = Sigmoid(_nodes[k] - b);
                        score += n * prob - _expectedRight[j * _q + k];
                        information += n * prob * (1 - prob);
                    }
                    if (information <= 0)
                    {
                        break;
                    }
                    // Steps of at most 2 logits: without a prior an item nobody got wrong walks off, not jumps off.
                    var delta = Math.Clamp(score / information, -2, 2);
                    b += delta;
                    if (Math.Abs(delta) < 1e-12)
                    {
                        break;
                    }
                }
                moved = Math.Max(moved, Math.Abs(b - Difficulties[j]));
                Difficulties[j] = b;
            }
            if (_options.AbilitySpread is null)
            {
                var spread = Math.Min(20, Math.Sqrt(_secondMoment / (_offsets.Length - 1)));
                moved = Math.Max(moved, Math.Abs(spread - Spread));
                Spread = spread;
            }
            return moved;
        }
    }
}
