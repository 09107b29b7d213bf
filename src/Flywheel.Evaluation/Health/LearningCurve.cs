namespace Flywheel.Evaluation.Health;

/// <summary>
/// A fitted learning curve loss(n) = A·n^(−B) + C: the loss of a model trained on n examples falls as a power law
/// towards an irreducible loss C (Hestness et al., "Deep Learning Scaling is Predictable, Empirically", 2017, who
/// report exponents B of about 0.07 to 0.35 for many tasks). A = 0 and B = 0 mean the points showed no decrease at
/// all: the curve is flat at C.
/// </summary>
/// <param name="A">The scale a ≥ 0 of the reducible loss.</param>
/// <param name="B">The exponent b: how fast the reducible loss shrinks as data grows (searched in [0.001, 4]).</param>
/// <param name="C">The irreducible loss c ≥ 0, the floor more data cannot pass.</param>
/// <param name="Residual">The root-mean-square residual √(Σ(loss_i − fit_i)²/m) of the m points.</param>
/// <param name="LastExamples">The largest n among the points: where the curve stands now.</param>
public readonly record struct LearningCurveFit(double A, double B, double C, double Residual, double LastExamples)
{
    /// <summary>The fitted loss at <paramref name="examples"/> training examples: A·n^(−B) + C.</summary>
    public double Predict(double examples) => A * Math.Pow(examples, -B) + C;

    /// <summary>loss(n) − loss(2n) = A·n^(−B)·(1 − 2^(−B)): what doubling the data from n is predicted to gain.</summary>
    public double DoublingGainAt(double examples) => A * Math.Pow(examples, -B) * (1 - Math.Pow(2, -B));

    /// <summary>The predicted gain of doubling the data from <see cref="LastExamples"/>.</summary>
    public double DoublingGain => DoublingGainAt(LastExamples);

    /// <summary>
    /// True when doubling the data is predicted to gain less than <paramref name="feltThreshold"/>, the smallest
    /// change in loss users can feel: more of the same data no longer helps.
    /// </summary>
    public bool IsPlateau(double feltThreshold)
    {
        if (!(feltThreshold >= 0) || double.IsPositiveInfinity(feltThreshold))
        {
            throw new ArgumentOutOfRangeException(nameof(feltThreshold), feltThreshold, "must be a finite number ≥ 0");
        }
        return DoublingGain < feltThreshold;
    }
}

/// <summary>
/// Fits loss(n) = a·n^(−b) + c (a &gt; 0, b &gt; 0, c ≥ 0) to (examples, loss) points by ordinary nonlinear least
/// squares with c free. Pass a loss, lower being better; for a quality q with a best value q*, pass q* − q.
/// <para>
/// Method: variable projection (Golub &amp; Pereyra). For a fixed b the model is linear in a and c, so the best a
/// and c follow in closed form (a 2×2 least-squares problem, with the constraints a ≥ 0 and c ≥ 0 enforced by trying
/// the boundary fits c = 0 and a = 0 when the free solution breaks one). That leaves the residual sum of squares as a
/// function of b alone, which is scanned on a log-spaced grid over [0.001, 4] and then refined by golden-section
/// search between the best grid point's neighbours. Unlike a log-log line fit for a guessed c, this minimises the
/// error of the losses themselves, never takes the log of a noisy value near c, and cannot diverge the way a
/// Gauss–Newton/Levenberg–Marquardt iteration from a poor start can; on 5 to 50 noisy points it costs a few
/// thousand power evaluations and allocates nothing (up to 256 points).
/// </para>
/// <para>
/// What the data can tell: the exponent and the doubling gain are well determined once the points span a few
/// decades of n, but C is only as sharp as the points come close to it. Far from the floor (small b, or data that
/// stop early) a larger C with a steeper b fits almost as well, so read C with that in mind.
/// </para>
/// Thread-safe (pure functions).
/// </summary>
public static class LearningCurve
{
    /// <summary>The fewest points <see cref="Fit(ReadOnlySpan{double}, ReadOnlySpan{double})"/> accepts: three parameters and at least one degree of freedom.</summary>
    public const int MinimumPoints = 4;

    private const double MinExponent = 1e-3;
    private const double MaxExponent = 4;
    private const int GridSize = 160;
    private const double GoldenTolerance = 1e-9;

    /// <summary>
    /// The least-squares fit of loss(n) = a·n^(−b) + c to the points (<paramref name="examples"/>[i],
    /// <paramref name="loss"/>[i]), in any order.
    /// </summary>
    /// <param name="examples">n of each point: training examples, finite and &gt; 0, at least 3 distinct values.</param>
    /// <param name="loss">The loss at each point, finite.</param>
    /// <exception cref="ArgumentException">
    /// Fewer than <see cref="MinimumPoints"/> points, spans of different lengths, fewer than 3 distinct n, an n that is
    /// not a finite number &gt; 0, or a loss that is not finite.
    /// </exception>
    public static LearningCurveFit Fit(ReadOnlySpan<double> examples, ReadOnlySpan<double> loss) => Fit(examples, loss, []);

    /// <summary>
    /// The weighted least-squares fit: minimises Σ w_i·(loss_i − a·n_i^(−b) − c)². Weigh each point by its precision
    /// (1/SE², the decisions behind a mean over their variance) so a few noisy early points do not outweigh the large
    /// recent ones; the residual is then √(Σw·r²/Σw).
    /// </summary>
    /// <param name="examples">n of each point, as for the unweighted fit.</param>
    /// <param name="loss">The loss at each point.</param>
    /// <param name="weights">One finite weight &gt; 0 per point, or empty for equal weights.</param>
    public static LearningCurveFit Fit(ReadOnlySpan<double> examples, ReadOnlySpan<double> loss, ReadOnlySpan<double> weights)
    {
        Validate(examples, loss);
        if (!weights.IsEmpty)
        {
            if (weights.Length != examples.Length)
            {
                throw new ArgumentException($"must have as many weights as examples ({examples.Length}), not {weights.Length}", nameof(weights));
            }
            foreach (var w in weights)
            {
                if (!(w > 0) || double.IsPositiveInfinity(w))
                {
                    throw new ArgumentException($"every weight must be a finite number > 0; got {w}", nameof(weights));
                }
            }
        }
        // Measure n against its geometric mean so that n^(−b) stays near 1 for any b and the 2×2 solve is well scaled.
        var logSum = 0.0;
        var last = 0.0;
        foreach (var n in examples)
        {
            logSum += Math.Log(n);
            last = Math.Max(last, n);
        }
        var reference = Math.Exp(logSum / examples.Length);
        // x_i = (n_i/r)^(−b) for the b under study, computed once per b; a few hundred points fit on the stack.
        Span<double> x = examples.Length > 256 ? new double[examples.Length] : stackalloc double[examples.Length];
        var problem = new Problem(examples, loss, weights, reference, x);

        var step = Math.Log(MaxExponent / MinExponent) / (GridSize - 1);
        var bestIndex = 0;
        var bestSse = double.PositiveInfinity;
        for (var i = 0; i < GridSize; i++)
        {
            var sse = problem.Solve(GridExponent(i, step)).Sse;
            if (sse < bestSse)
            {
                bestSse = sse;
                bestIndex = i;
            }
        }
        var b = GoldenSection(problem, GridExponent(Math.Max(0, bestIndex - 1), step), GridExponent(Math.Min(GridSize - 1, bestIndex + 1), step));
        var fit = problem.Solve(b);
        if (problem.Solve(GridExponent(bestIndex, step)).Sse < fit.Sse)
        {
            b = GridExponent(bestIndex, step);
            fit = problem.Solve(b);
        }
        var residual = Math.Sqrt(fit.Sse / problem.TotalWeight);
        if (!(fit.A > 0))
        {
            return new LearningCurveFit(0, 0, fit.C, residual, last);
        }
        // a·(n/r)^(−b) = a·r^b·n^(−b).
        return new LearningCurveFit(fit.A * Math.Pow(reference, b), b, fit.C, residual, last);
    }

    private static double GridExponent(int i, double step) => MinExponent * Math.Exp(i * step);

    /// <summary>Minimises the residual sum of squares over b in [lo, hi] by golden-section search.</summary>
    private static double GoldenSection(Problem problem, double lo, double hi)
    {
        const double invPhi = 0.618033988749894848204586834366;
        var x1 = hi - invPhi * (hi - lo);
        var x2 = lo + invPhi * (hi - lo);
        var f1 = problem.Solve(x1).Sse;
        var f2 = problem.Solve(x2).Sse;
        while (hi - lo > GoldenTolerance * hi)
        {
            if (f1 <= f2)
            {
                hi = x2;
                x2 = x1;
                f2 = f1;
                x1 = hi - invPhi * (hi - lo);
                f1 = problem.Solve(x1).Sse;
            }
            else
            {
                lo = x1;
                x1 = x2;
                f1 = f2;
                x2 = lo + invPhi * (hi - lo);
                f2 = problem.Solve(x2).Sse;
            }
        }
        return f1 <= f2 ? x1 : x2;
    }

    /// <summary>The points, the reference n and a scratch buffer for x_i = (n_i/r)^(−b).</summary>
    private readonly ref struct Problem(ReadOnlySpan<double> examples, ReadOnlySpan<double> loss, ReadOnlySpan<double> weights, double reference, Span<double> x)
    {
        private readonly ReadOnlySpan<double> _examples = examples;
        private readonly ReadOnlySpan<double> _loss = loss;
        private readonly ReadOnlySpan<double> _weights = weights;
        private readonly Span<double> _x = x;

        private double W(int i) => _weights.IsEmpty ? 1 : _weights[i];

        public double TotalWeight
        {
            get
            {
                if (_weights.IsEmpty)
                {
                    return _examples.Length;
                }
                var total = 0.0;
                foreach (var w in _weights)
                {
                    total += w;
                }
                return total;
            }
        }

        /// <summary>For a fixed b, the a ≥ 0 and c ≥ 0 minimising Σ(y_i − a·x_i − c)², and that minimum.</summary>
        public (double A, double C, double Sse) Solve(double b)
        {
            var m = _examples.Length;
            double meanX = 0, meanY = 0, total = 0;
            for (var i = 0; i < m; i++)
            {
                _x[i] = Math.Pow(_examples[i] / reference, -b);
                var w = W(i);
                total += w;
                meanX += w * _x[i];
                meanY += w * _loss[i];
            }
            meanX /= total;
            meanY /= total;
            double sxx = 0, sxy = 0, xx = 0, xy = 0;
            for (var i = 0; i < m; i++)
            {
                var w = W(i);
                var dx = _x[i] - meanX;
                sxx += w * dx * dx;
                sxy += w * dx * (_loss[i] - meanY);
                xx += w * _x[i] * _x[i];
                xy += w * _x[i] * _loss[i];
            }
            if (sxx > 0)
            {
                var a = sxy / sxx;
                var c = meanY - a * meanX;
                if (a > 0 && c >= 0)
                {
                    return (a, c, Sse(a, c));
                }
            }
            // The free fit breaks a constraint: the best lies on the boundary c = 0 or a = 0.
            var flat = Math.Max(0, meanY);
            var best = (A: 0.0, C: flat, Sse: Sse(0, flat));
            if (xy > 0 && xx > 0)
            {
                var a = xy / xx;
                var sse = Sse(a, 0);
                if (sse < best.Sse)
                {
                    best = (a, 0, sse);
                }
            }
            return best;
        }

        // Summed directly rather than as Σy² − a·Σxy − …, which cancels to noise when the fit is close.
        private double Sse(double a, double c)
        {
            var sse = 0.0;
            for (var i = 0; i < _x.Length; i++)
            {
                var r = _loss[i] - a * _x[i] - c;
                sse += W(i) * r * r;
            }
            return sse;
        }
    }

    private static void Validate(ReadOnlySpan<double> examples, ReadOnlySpan<double> loss)
    {
        if (examples.Length != loss.Length)
        {
            throw new ArgumentException($"must have as many values as examples ({examples.Length}), not {loss.Length}", nameof(loss));
        }
        if (examples.Length < MinimumPoints)
        {
            throw new ArgumentException($"a learning curve needs at least {MinimumPoints} points, not {examples.Length}", nameof(examples));
        }
        double first = examples[0], second = double.NaN;
        var distinct = 1;
        for (var i = 0; i < examples.Length; i++)
        {
            var n = examples[i];
            if (!(n > 0) || double.IsPositiveInfinity(n))
            {
                throw new ArgumentException($"every n must be a finite number > 0; examples[{i}] is {n}", nameof(examples));
            }
            if (!double.IsFinite(loss[i]))
            {
                throw new ArgumentException($"every loss must be finite; loss[{i}] is {loss[i]}", nameof(loss));
            }
            if (distinct == 1 && n != first)
            {
                second = n;
                distinct = 2;
            }
            else if (distinct == 2 && n != first && n != second)
            {
                distinct = 3;
            }
        }
        if (distinct < 3)
        {
            throw new ArgumentException("a learning curve needs at least 3 distinct numbers of examples", nameof(examples));
        }
    }
}
