namespace Flywheel.Cli;

/// <summary>The <c>flywheel</c> executable.</summary>
public static class Program
{
    /// <summary>Runs the command line against the process console.</summary>
    public static Task<int> Main(string[] args) => FlywheelCli.RunAsync(args, Console.Out, Console.Error);
}
